//! kept-server
