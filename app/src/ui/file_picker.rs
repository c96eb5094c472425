//! Choosing a file with the native dialog, behind a trait so tests (and machines without a
//! desktop portal) open files by path instead.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, bounded};

/// Something that can ask the user for a data file without blocking the UI thread.
pub trait FilePicker {
    /// Starts asking; the receiver yields the chosen path, or `None` when cancelled/unavailable.
    fn pick_data_file(&mut self) -> Receiver<Option<PathBuf>>;
}

/// The operating system's file dialog (rfd), run on its own thread.
#[derive(Debug, Default)]
pub struct NativeFilePicker;

/// File extensions Kiln can open, for the dialog's filter.
pub const DATA_EXTENSIONS: &[&str] = &[
    "csv", "tsv", "txt", "parquet", "json", "ndjson", "jsonl", "arrow", "feather", "ipc",
];

impl FilePicker for NativeFilePicker {
    fn pick_data_file(&mut self) -> Receiver<Option<PathBuf>> {
        let (sender, receiver) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("kiln-file-dialog".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .set_title("Open a data file")
                    .add_filter("Data files", DATA_EXTENSIONS)
                    .add_filter("All files", &["*"])
                    .pick_file();
                let _ = sender.send(picked);
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the file dialog");
        }
        receiver
    }
}

/// A picker that always answers with the same path (tests, scripted demos).
#[derive(Debug, Clone)]
pub struct FixedFilePicker(pub Option<PathBuf>);

impl FilePicker for FixedFilePicker {
    fn pick_data_file(&mut self) -> Receiver<Option<PathBuf>> {
        let (sender, receiver) = bounded(1);
        let _ = sender.send(self.0.clone());
        receiver
    }
}
