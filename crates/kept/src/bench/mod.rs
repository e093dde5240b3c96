//! `kept bench`: the desks under test (kept and its peers) and the load
//! that drives them. The peers branch carries only what the peers need; the
//! intake driver that uses them (and makes these `allow`s unnecessary) is
//! merged separately.

#[allow(dead_code)]
pub mod desk;
#[allow(dead_code)]
pub mod peers;
