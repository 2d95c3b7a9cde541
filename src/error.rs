//! Library errors. The CLI adds context with `anyhow`.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SimError {
    #[error("could not create Verilated model {0}")]
    ModelCreate(String),
    #[error("model {model} has no port named {port}")]
    NoPort { model: String, port: String },
    #[error("could not open waveform file {0}")]
    Trace(String),
    #[error("head dimension {dim} is outside 1..={max} supported by the {unit}")]
    Dim { dim: usize, max: usize, unit: &'static str },
    #[error("{unit} did not finish within {cycles} cycles (protocol hang)")]
    Hang { unit: &'static str, cycles: u64 },
    #[error("{0}")]
    Input(String),
}
