//! Deployment: a registered version behind a real HTTP endpoint ([`serve`]), and what watches
//! it. Everything here runs for real on this machine (real sockets, real models).

pub mod serve;
