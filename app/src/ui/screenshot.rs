//! `kiln gui --screenshot`: wait until the window has settled, capture it, save a PNG, close.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Frames without any running job before the window counts as settled.
const QUIET_FRAMES: u32 = 10;
/// Give up waiting for jobs after this long and capture what is there.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// The outcome shared with the caller: `None` until the PNG was written or failed.
pub type ScreenshotOutcome = Arc<Mutex<Option<Result<PathBuf, String>>>>;

enum Phase {
    Settling { quiet_frames: u32 },
    Capturing(Arc<Mutex<Option<Arc<egui::ColorImage>>>>),
    Done,
}

/// Drives one screenshot of the real window.
pub struct ScreenshotController {
    path: PathBuf,
    started: Instant,
    phase: Phase,
    outcome: ScreenshotOutcome,
}

impl ScreenshotController {
    /// Will write the window to `path` once it settles; `outcome` reports the result.
    pub fn new(path: PathBuf, outcome: ScreenshotOutcome) -> Self {
        Self {
            path,
            started: Instant::now(),
            phase: Phase::Settling { quiet_frames: 0 },
            outcome,
        }
    }

    /// Call once per frame with whether any job is still running.
    pub fn tick(&mut self, ctx: &egui::Context, busy: bool) {
        // Keep frames coming: settling is counted in frames.
        ctx.request_repaint();
        match &mut self.phase {
            Phase::Settling { quiet_frames } => {
                *quiet_frames = if busy { 0 } else { *quiet_frames + 1 };
                if *quiet_frames >= QUIET_FRAMES || self.started.elapsed() > MAX_WAIT {
                    let slot = Arc::new(Mutex::new(None));
                    let callback_slot = Arc::clone(&slot);
                    let repaint_ctx = ctx.clone();
                    ctx.request_screenshot(move |image| {
                        *callback_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(image);
                        repaint_ctx.request_repaint();
                    });
                    self.phase = Phase::Capturing(slot);
                }
            }
            Phase::Capturing(slot) => {
                let image = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(image) = image {
                    let result = save_png(&self.path, &image).map(|()| self.path.clone());
                    *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                    self.phase = Phase::Done;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            Phase::Done => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }
}

fn save_png(path: &std::path::Path, image: &egui::ColorImage) -> Result<(), String> {
    let [width, height] = image.size;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    image::save_buffer(
        path,
        image.as_raw(),
        width as u32,
        height as u32,
        image::ExtendedColorType::Rgba8,
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
