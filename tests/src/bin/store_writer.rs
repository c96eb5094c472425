//! A helper process for the store's multi-process tests: writes whole runs into a store and
//! prints `committed <run id>` after each commit, so a test can kill it at any moment and then
//! check that exactly the committed runs survived.
//!
//! Usage: `kiln-store-writer HOME EXPERIMENT COUNT`

use anyhow::{Context, Result};
use kiln_core::store::{NewRun, RunStatus, Store};
use std::io::Write;

/// Params and metrics written with every run; the tests check each survivor has all of them.
const FIELDS: usize = kiln_tests::WRITER_FIELDS_PER_RUN;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let home = args.next().context("missing HOME")?;
    let experiment = args.next().context("missing EXPERIMENT")?;
    let count: usize = args.next().context("missing COUNT")?.parse()?;
    let store = Store::open(&home)?;
    let mut stdout = std::io::stdout().lock();
    for i in 0..count {
        let new = NewRun {
            experiment: experiment.clone(),
            seed: Some(i as i64),
            params: (0..FIELDS)
                .map(|p| (format!("p{p}"), format!("{i}-{p}")))
                .collect(),
            ..NewRun::default()
        };
        let metrics: Vec<(String, f64)> = (0..FIELDS)
            .map(|m| (format!("m{m}"), (i * m) as f64))
            .collect();
        let run = store.record_run(&new, &metrics, RunStatus::Finished)?;
        writeln!(stdout, "committed {}", run.id)?;
        stdout.flush()?;
    }
    Ok(())
}
