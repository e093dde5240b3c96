//! Demo organisation generator (see demo/mod.rs).
