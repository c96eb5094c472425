//! The workspaces, one module each. Each draws with `..._ui` functions and talks to the rest
//! of the app only through the [`PanelContext`](super::context::PanelContext).

pub mod deploy;
pub mod experiments;
pub mod explore;
pub mod pipelines;
pub mod registry;
