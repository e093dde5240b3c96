//! kept-store
