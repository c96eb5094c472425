//! Sample datasets shipped inside the binary (see `assets/README.md` for sources and licences),
//! written into the store folder on first use so they open like any other file.

use std::path::{Path, PathBuf};

/// A shipped dataset.
pub struct Sample {
    /// File name.
    pub file: &'static str,
    /// One line on what it is.
    pub description: &'static str,
    bytes: &'static [u8],
}

/// The shipped datasets.
pub const SAMPLES: &[Sample] = &[
    Sample {
        file: "penguins.csv",
        description: "Palmer penguins: classify species; categorical columns and missing values (CC0)",
        bytes: include_bytes!("../../assets/penguins.csv"),
    },
    Sample {
        file: "diabetes.csv",
        description: "Diabetes progression: regression on 10 clinical measurements (BSD-3)",
        bytes: include_bytes!("../../assets/diabetes.csv"),
    },
    Sample {
        file: "iris.csv",
        description: "Iris flowers: the classic 3-class classification (CC BY 4.0)",
        bytes: include_bytes!("../../assets/iris.csv"),
    },
];

/// Writes the samples into `home/samples/` (once) and returns their paths.
pub fn ensure_samples(home: &Path) -> std::io::Result<Vec<PathBuf>> {
    let dir = home.join("samples");
    std::fs::create_dir_all(&dir)?;
    SAMPLES
        .iter()
        .map(|sample| {
            let path = dir.join(sample.file);
            if !path.exists() {
                std::fs::write(&path, sample.bytes)?;
            }
            Ok(path)
        })
        .collect()
}

/// The demo pipeline's `kiln.toml`, beside the samples it trains on.
const DEMO_PIPELINE: &[u8] = include_bytes!("../../assets/demo-pipeline.toml");

/// Writes the demo pipeline beside the samples that [`ensure_samples`] wrote in `home`
/// (once, so the user's edits stay) and returns its path.
pub fn ensure_demo_pipeline(home: &Path) -> std::io::Result<PathBuf> {
    let path = home
        .join("samples")
        .join(kiln_core::pipeline::PIPELINE_FILE);
    if !path.exists() {
        std::fs::write(&path, DEMO_PIPELINE)?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_pipeline_parses_and_trains_on_a_shipped_sample() {
        let home = tempfile::tempdir().unwrap();
        ensure_samples(home.path()).unwrap();
        let path = ensure_demo_pipeline(home.path()).unwrap();
        let file = kiln_core::pipeline::PipelineFile::load(&path).unwrap();
        let train = file.data.get("train").unwrap();
        assert!(path.parent().unwrap().join(&train.path).exists());
        assert_eq!(file.model_name(), "penguins-pipeline");
    }
}
