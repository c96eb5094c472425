//! Deployment: a registered version behind a real HTTP endpoint ([`serve`]), and what watches
//! it: data drift against the training reference ([`drift`]). Everything here runs for real on
//! this machine (real sockets, real models).

pub mod drift;
pub mod serve;
