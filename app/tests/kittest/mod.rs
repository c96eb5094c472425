//! The whole app in an egui_kittest harness, shared by the UI tests and the GUI benches.

#![allow(dead_code)]

use egui_kittest::Harness;
use kiln::ui::{AppOptions, KilnApp};

/// The app built from `options` in a window of `size` points, drawn as eframe would.
pub fn app_harness(options: AppOptions, size: egui::Vec2) -> Harness<'static, KilnApp> {
    Harness::builder().with_size(size).build_ui_state(
        |ui, app: &mut KilnApp| {
            app.logic(&ui.ctx().clone());
            app.ui(ui);
        },
        KilnApp::new(options),
    )
}

/// One mouse-wheel scroll of `dy` points (negative scrolls down), as a trackpad sends it.
pub fn scroll(harness: &mut Harness<'_, KilnApp>, dy: f32) {
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, dy),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    });
}
