//! Choosing a file with the native dialog, behind a trait so tests (and machines without a
//! desktop portal) open and save files by path instead.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, bounded};

/// Something that can ask the user for a data file without blocking the UI thread.
pub trait FilePicker {
    /// Starts asking; the receiver yields the chosen path, or `None` when cancelled/unavailable.
    fn pick_data_file(&mut self) -> Receiver<Option<PathBuf>>;

    /// Starts asking where to save a file, suggesting `file_name`; same answers as above.
    fn pick_save_file(&mut self, title: &str, file_name: &str) -> Receiver<Option<PathBuf>>;

    /// Starts asking for an existing folder (`folder`) or file of any kind; same answers.
    fn pick_existing(&mut self, title: &str, folder: bool) -> Receiver<Option<PathBuf>>;
}

/// Runs a native dialog on its own thread (it blocks until the user answers) and hands its
/// answer over through the receiver.
fn on_dialog_thread(
    dialog: impl FnOnce() -> Option<PathBuf> + Send + 'static,
) -> Receiver<Option<PathBuf>> {
    let (sender, receiver) = bounded(1);
    let spawned = std::thread::Builder::new()
        .name("kiln-file-dialog".into())
        .spawn(move || {
            let _ = sender.send(dialog());
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start the file dialog");
    }
    receiver
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
        on_dialog_thread(|| {
            rfd::FileDialog::new()
                .set_title("Open a data file")
                .add_filter("Data files", DATA_EXTENSIONS)
                .add_filter("All files", &["*"])
                .pick_file()
        })
    }

    fn pick_save_file(&mut self, title: &str, file_name: &str) -> Receiver<Option<PathBuf>> {
        let (title, file_name) = (title.to_owned(), file_name.to_owned());
        on_dialog_thread(move || {
            rfd::FileDialog::new()
                .set_title(title)
                .set_file_name(file_name)
                .save_file()
        })
    }

    fn pick_existing(&mut self, title: &str, folder: bool) -> Receiver<Option<PathBuf>> {
        let title = title.to_owned();
        on_dialog_thread(move || {
            let dialog = rfd::FileDialog::new().set_title(title);
            if folder {
                dialog.pick_folder()
            } else {
                dialog.pick_file()
            }
        })
    }
}

/// A picker that always answers with the same path (tests, scripted demos); when saving,
/// with the extension of the suggested file name, so a CSV and a JSON export do not collide.
#[derive(Debug, Clone)]
pub struct FixedFilePicker(pub Option<PathBuf>);

impl FixedFilePicker {
    fn answer(path: Option<PathBuf>) -> Receiver<Option<PathBuf>> {
        let (sender, receiver) = bounded(1);
        let _ = sender.send(path);
        receiver
    }
}

impl FilePicker for FixedFilePicker {
    fn pick_data_file(&mut self) -> Receiver<Option<PathBuf>> {
        Self::answer(self.0.clone())
    }

    fn pick_save_file(&mut self, _title: &str, file_name: &str) -> Receiver<Option<PathBuf>> {
        let extension = std::path::Path::new(file_name)
            .extension()
            .unwrap_or_default();
        Self::answer(self.0.as_ref().map(|p| p.with_extension(extension)))
    }

    fn pick_existing(&mut self, _title: &str, _folder: bool) -> Receiver<Option<PathBuf>> {
        Self::answer(self.0.clone())
    }
}
