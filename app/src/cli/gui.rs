//! `kiln` / `kiln gui`: open the window (or capture it with `--screenshot`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail};

use super::args::GuiArgs;
use crate::ui::screenshot::{ScreenshotController, ScreenshotOutcome};
use crate::ui::settings::UiSettings;
use crate::ui::{AppOptions, KilnApp, SETTINGS_KEY};

const DEFAULT_SIZE: (f32, f32) = (1280.0, 800.0);

/// Opens the Kiln window and returns when it closes.
pub fn run_gui(home: Option<PathBuf>, args: GuiArgs) -> Result<ExitCode> {
    if let Some(file) = &args.file
        && !file.exists()
    {
        bail!("cannot open {}: no such file", file.display());
    }
    let (width, height) = args.size.unwrap_or(DEFAULT_SIZE);
    let capturing = args.screenshot.is_some();
    let outcome: ScreenshotOutcome = Arc::new(Mutex::new(None));
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Kiln")
        .with_app_id("kiln")
        .with_inner_size([width, height])
        .with_min_inner_size([640.0, 400.0]);
    if let Some(icon) = app_icon() {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        // Scripted screenshots neither read nor write the user's window state.
        persist_window: !capturing,
        ..Default::default()
    };
    let controller_outcome = Arc::clone(&outcome);
    let screenshot = args.screenshot.clone();
    eframe::run_native(
        "Kiln",
        options,
        Box::new(move |cc| {
            let settings = match (&screenshot, cc.storage) {
                (None, Some(storage)) => {
                    eframe::get_value::<UiSettings>(storage, SETTINGS_KEY).unwrap_or_default()
                }
                _ => UiSettings::default(),
            };
            let app = KilnApp::new(AppOptions {
                store_home: home,
                settings,
                open_files: args.file.into_iter().collect(),
                workspace: args.panel,
                explore_view: args.view,
                first_run_demo: true,
                screenshot: screenshot
                    .map(|path| ScreenshotController::new(path, controller_outcome)),
                ..AppOptions::default()
            });
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        anyhow!(
            "cannot open the window: {e} (is a display available? see README, 'System packages')"
        )
    })?;
    if capturing {
        let result = outcome.lock().unwrap_or_else(|p| p.into_inner()).take();
        match result {
            Some(Ok(path)) => println!("{}", path.display()),
            Some(Err(message)) => bail!("screenshot failed: {message}"),
            None => bail!("the window closed before the screenshot was taken"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn app_icon() -> Option<egui::IconData> {
    let bytes = include_bytes!("../../../assets/icon.png");
    let image = image::load_from_memory(bytes).ok()?.into_rgba8();
    let (width, height) = image.dimensions();
    Some(egui::IconData {
        rgba: image.into_raw(),
        width,
        height,
    })
}
