//! Design tokens: every colour and spacing the UI uses, for light and dark.
//!
//! No other module constructs colours; they ask for a token here.

// The one module allowed to construct colours.
#![allow(clippy::disallowed_methods)]

use egui::Color32;
use serde::{Deserialize, Serialize};

/// The user's choice of theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Light background.
    Light,
    /// Dark background.
    #[default]
    Dark,
}

impl ThemeChoice {
    /// Label shown in the theme switch.
    pub fn label(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Dark => "Dark",
        }
    }
}

/// Semantic colours and sizes for one theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    /// Highlight for the selected workspace and primary actions.
    pub accent: Color32,
    /// Success (finished runs, passed gates).
    pub good: Color32,
    /// Needs attention (alerts, running).
    pub warn: Color32,
    /// Errors (failed runs, failed gates).
    pub bad: Color32,
    /// Secondary text.
    pub muted: Color32,
    /// Series colours for plots, in order.
    pub palette: [Color32; 8],
    /// Space between sections.
    pub section_gap: f32,
    /// Width of the navigation column.
    pub nav_width: f32,
}

impl Tokens {
    /// Tokens for `choice`.
    pub fn for_theme(choice: ThemeChoice) -> Self {
        // Okabe–Ito, readable for colour-blind users on both backgrounds.
        let palette = [
            Color32::from_rgb(0, 114, 178),
            Color32::from_rgb(230, 159, 0),
            Color32::from_rgb(0, 158, 115),
            Color32::from_rgb(204, 121, 167),
            Color32::from_rgb(86, 180, 233),
            Color32::from_rgb(213, 94, 0),
            Color32::from_rgb(240, 228, 66),
            Color32::from_rgb(120, 120, 120),
        ];
        match choice {
            ThemeChoice::Dark => Self {
                accent: Color32::from_rgb(255, 140, 66),
                good: Color32::from_rgb(96, 200, 120),
                warn: Color32::from_rgb(240, 190, 80),
                bad: Color32::from_rgb(240, 100, 90),
                muted: Color32::from_gray(150),
                palette,
                section_gap: 12.0,
                nav_width: 150.0,
            },
            ThemeChoice::Light => Self {
                accent: Color32::from_rgb(200, 80, 10),
                good: Color32::from_rgb(20, 130, 60),
                warn: Color32::from_rgb(170, 110, 0),
                bad: Color32::from_rgb(190, 40, 30),
                muted: Color32::from_gray(100),
                palette,
                section_gap: 12.0,
                nav_width: 150.0,
            },
        }
    }
}

impl Tokens {
    /// Colour of a correlation in `-1..=1`: blue for negative, red for positive, neutral at 0.
    pub fn diverging(&self, value: f64, dark: bool) -> Color32 {
        let t = value.clamp(-1.0, 1.0) as f32;
        let neutral = if dark {
            Color32::from_gray(45)
        } else {
            Color32::from_gray(245)
        };
        let end = if t < 0.0 {
            Color32::from_rgb(33, 102, 172)
        } else {
            Color32::from_rgb(178, 24, 43)
        };
        lerp_color(neutral, end, t.abs())
    }

    /// Colour of a missing or undefined value in a heatmap.
    pub fn undefined(&self) -> Color32 {
        Color32::from_gray(128).gamma_multiply(0.35)
    }

    /// Text colour readable on `background`.
    pub fn text_on(&self, background: Color32) -> Color32 {
        let [r, g, b, _] = background.to_array();
        let luma = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
        if luma > 140.0 {
            Color32::from_gray(20)
        } else {
            Color32::from_gray(235)
        }
    }
}

fn lerp_color(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// Applies `choice` to the egui context.
pub fn apply(ctx: &egui::Context, choice: ThemeChoice) {
    let theme = match choice {
        ThemeChoice::Light => egui::Theme::Light,
        ThemeChoice::Dark => egui::Theme::Dark,
    };
    ctx.set_theme(theme);
}
