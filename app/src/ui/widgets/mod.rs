//! Reusable views drawn from what core computed: plots, heatmaps, the data grid.

pub mod bars;
pub mod data_grid;
pub mod heatmap;
pub mod histogram;
