//! The five workspaces of the navigation.

use serde::{Deserialize, Serialize};

/// A top-level area of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Workspace {
    /// Open and profile data.
    #[default]
    Explore,
    /// Train, track and compare runs.
    Experiments,
    /// Versioned models, stages, audit.
    Registry,
    /// Serve, simulate, monitor.
    Deploy,
    /// Re-run what changed: validate, train, gate, register, promote.
    Pipelines,
}

impl Workspace {
    /// All workspaces in navigation order.
    pub const ALL: [Self; 5] = [
        Self::Explore,
        Self::Experiments,
        Self::Registry,
        Self::Deploy,
        Self::Pipelines,
    ];

    /// The name shown in the navigation.
    pub fn label(self) -> &'static str {
        match self {
            Self::Explore => "Explore",
            Self::Experiments => "Experiments",
            Self::Registry => "Registry",
            Self::Deploy => "Deploy",
            Self::Pipelines => "Pipelines",
        }
    }
}

impl std::str::FromStr for Workspace {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|w| w.label().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown panel '{s}' (expected explore, experiments, registry, deploy or pipelines)")
            })
    }
}
