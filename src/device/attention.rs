//! What the system needs of a tier's device, whichever model stands behind it: the Verilated
//! RTL ([`PimDevice`]) or the fast model calibrated from it
//! ([`super::calibrated::CalibratedDevice`]). The choice is per tier (scenario
//! `system.device_models`); the host's KV manager, PAMattention, migration and checking do
//! not see the difference.

use super::memory::CommandCounts;
use super::pim::{DeviceRun, PimDevice};
use crate::error::SimError;
use crate::kv::location::PhysLoc;
use crate::partial::Partial;

/// Which model stands behind a tier's devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceModel {
    /// The Verilated device: memory, PUs and RUs clocked beat for beat.
    Rtl,
    /// The fast model calibrated from the RTL ([`super::calibrated`]).
    Calibrated,
}

impl DeviceModel {
    pub const NAMES: [&'static str; 2] = ["rtl", "calibrated"];

    pub fn by_name(name: &str) -> Option<Self> {
        [DeviceModel::Rtl, DeviceModel::Calibrated].into_iter().find(|m| m.name() == name)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The K and V of the token at a location (the host's copy).
pub type KvOf<'a, 'k> = &'a dyn Fn(&PhysLoc) -> (&'k [u16], &'k [u16]);

pub trait AttentionDevice: Send {
    /// Writes one token's K and V (FP16, the head dimension each) at `loc`.
    fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError>;
    /// Reads a token of head dimension `dim` back: (k, v).
    fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError>;
    /// Loads a group of (1/sqrt(d)-scaled) FP16 queries that the next runs serve together.
    fn load_queries(&mut self, qs: &[Vec<u16>]) -> Result<(), SimError>;
    /// Local attention over the tokens at `tokens`, one partial per loaded query.
    fn run(&mut self, tokens: &[PhysLoc]) -> Result<DeviceRun, SimError>;
    /// The bit-accurate partial of query `q` over `tokens` (see [`PimDevice::golden`]).
    fn golden(&self, q: &[u16], tokens: &[PhysLoc], kv: KvOf) -> Partial;
    /// Forgets caches outside the array (flash page registers) before a cold measurement.
    fn drop_caches(&mut self) -> Result<(), SimError>;
    /// Memory commands issued so far, when the model issues commands (the RTL does).
    fn counts(&self) -> Option<CommandCounts>;
}

impl AttentionDevice for PimDevice {
    fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError> {
        PimDevice::write_token(self, loc, k, v)
    }

    fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError> {
        PimDevice::read_token(self, loc, dim)
    }

    fn load_queries(&mut self, qs: &[Vec<u16>]) -> Result<(), SimError> {
        PimDevice::load_queries(self, qs)
    }

    fn run(&mut self, tokens: &[PhysLoc]) -> Result<DeviceRun, SimError> {
        PimDevice::run(self, tokens)
    }

    fn golden(&self, q: &[u16], tokens: &[PhysLoc], kv: KvOf) -> Partial {
        PimDevice::golden(self, q, tokens, kv)
    }

    fn drop_caches(&mut self) -> Result<(), SimError> {
        self.memory().drop_caches()
    }

    fn counts(&self) -> Option<CommandCounts> {
        Some(PimDevice::counts(self))
    }
}
