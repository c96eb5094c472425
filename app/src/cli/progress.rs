//! The terminal face of a background job: the same progress the GUI's status bar shows.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use kiln_core::jobs::{JobError, JobHandle};

/// Steps of the bar (fractions are mapped onto this many).
const BAR_STEPS: u64 = 1000;

/// Waits for `handle`, drawing a progress bar on stderr (hidden when stderr is not a terminal).
pub fn run_with_progress<T>(handle: JobHandle<T>) -> Result<T, JobError> {
    let bar = ProgressBar::new(BAR_STEPS);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(handle.status().name);
    loop {
        if let Some(result) = handle.wait_timeout(Duration::from_millis(100)) {
            bar.finish_and_clear();
            return result;
        }
        let status = handle.status();
        if let Some(fraction) = status.fraction {
            bar.set_position((fraction * BAR_STEPS as f32) as u64);
        }
        bar.set_message(status.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::jobs::JobRunner;

    #[test]
    fn the_bar_returns_the_jobs_result() {
        let runner = JobRunner::new();
        let handle = runner.spawn("sum", |ctx| {
            let mut total = 0;
            for i in 0..5 {
                ctx.progress(i as f32 / 5.0, format!("{i}"));
                total += i;
                std::thread::sleep(Duration::from_millis(30));
            }
            Ok(total)
        });
        assert_eq!(run_with_progress(handle), Ok(10));
    }
}
