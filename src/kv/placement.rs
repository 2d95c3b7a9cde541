//! Intra-device KV mapping (spec §6).
//!
//! DRAM tiers (HBM, DDR): a new token goes to the bank group with the fewest activations
//! (tokens it served in attention) over the last [`ACTIVATION_WINDOW`] decode steps. Inside a
//! group, tokens fill slot after slot, each slot at the same row and column in every PU's
//! bank(s) of the group, so that the group's banks stream in lockstep. Flash (SSD): tokens are
//! interleaved across channels, then dies, as a flash translation layer does.
//!
//! A tier of several devices ([`TierPlacer`]) applies the same rules one level up: a DRAM
//! token goes to the device with the fewest activations over the window, a flash token to
//! the device holding the fewest tokens; ties go to the device holding fewer tokens, then to
//! the lower index.

use std::collections::VecDeque;

use super::location::PhysLoc;

/// Decode steps over which bank-group activations are counted.
pub const ACTIVATION_WINDOW: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    #[error("a token needs {need} columns per bank but a row has {have}")]
    TokenLargerThanRow { need: usize, have: usize },
    #[error("the device is full ({capacity} tokens)")]
    Full { capacity: usize },
    #[error("{0}")]
    Geometry(String),
}

/// Per-bank-group activation counts over the last `window` completed decode steps.
#[derive(Clone, Debug)]
pub struct ActivationWindow {
    window: usize,
    steps: VecDeque<Vec<u64>>,
    current: Vec<u64>,
    sums: Vec<u64>,
}

impl ActivationWindow {
    pub fn new(groups: usize, window: usize) -> Self {
        ActivationWindow {
            window,
            steps: VecDeque::with_capacity(window + 1),
            current: vec![0; groups],
            sums: vec![0; groups],
        }
    }

    /// `n` tokens of `group` were attended in the current step.
    pub fn record(&mut self, group: usize, n: u64) {
        self.current[group] += n;
    }

    /// Closes the current step: it enters the window, the oldest step leaves it.
    pub fn end_step(&mut self) {
        let done = std::mem::replace(&mut self.current, vec![0; self.sums.len()]);
        for (s, d) in self.sums.iter_mut().zip(&done) {
            *s += d;
        }
        self.steps.push_back(done);
        if self.steps.len() > self.window {
            let old = self.steps.pop_front().expect("non-empty");
            for (s, o) in self.sums.iter_mut().zip(&old) {
                *s -= o;
            }
        }
    }

    /// Activations of each group over the window.
    pub fn sums(&self) -> &[u64] {
        &self.sums
    }
}

/// How new tokens are spread over bank groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupPolicy {
    /// Spec §6: the group with the fewest activations over the window (ties: lowest index).
    LeastActivated,
    /// Plain round robin, the baseline the rule is compared with.
    RoundRobin,
}

/// The shape of a DRAM-PIM device as the mapping sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DramShape {
    pub bank_groups: usize,
    pub banks_per_group: usize,
    /// 1, or 2 when a PU serves a bank pair (the token is then striped over both banks).
    pub banks_per_pu: usize,
    pub rows: usize,
    /// Column accesses per bank row.
    pub cols: usize,
    /// Column accesses one token's K and V take in total (2 * ceil(d / lanes)).
    pub token_beats: usize,
}

impl DramShape {
    pub fn pus_per_group(&self) -> usize {
        self.banks_per_group / self.banks_per_pu
    }

    /// Columns a token occupies in each bank it touches.
    pub fn cols_per_token(&self) -> usize {
        self.token_beats.div_ceil(self.banks_per_pu)
    }

    pub fn slots_per_row(&self) -> usize {
        self.cols / self.cols_per_token()
    }

    /// Tokens one bank group holds.
    pub fn group_capacity(&self) -> usize {
        self.rows * self.slots_per_row() * self.pus_per_group()
    }

    pub fn validate(&self) -> Result<(), PlacementError> {
        let g = |m: &str| Err(PlacementError::Geometry(m.into()));
        if self.bank_groups == 0 || self.banks_per_group == 0 || self.rows == 0 || self.cols == 0 {
            return g("bank groups, banks per group, rows and columns must all be at least 1");
        }
        // A token of head dimension 0 takes no column: slots per row would divide by zero.
        if self.token_beats == 0 {
            return g("a token takes at least one column access (head dimension at least 1)");
        }
        if !matches!(self.banks_per_pu, 1 | 2) || !self.banks_per_group.is_multiple_of(self.banks_per_pu) {
            return g("banks per PU must be 1 or 2 and divide the banks of a group");
        }
        if self.cols_per_token() > self.cols {
            return Err(PlacementError::TokenLargerThanRow { need: self.cols_per_token(), have: self.cols });
        }
        Ok(())
    }
}

/// Places tokens in one DRAM-PIM device.
#[derive(Clone, Debug)]
pub struct DramPlacer {
    shape: DramShape,
    policy: GroupPolicy,
    tier: u8,
    device: u16,
    /// Next never-used fill index per group, and slots freed by migration.
    fill: Vec<usize>,
    free: Vec<Vec<PhysLoc>>,
    next_rr: usize,
    window: ActivationWindow,
}

impl DramPlacer {
    pub fn new(shape: DramShape, policy: GroupPolicy, tier: u8, device: u16) -> Result<Self, PlacementError> {
        shape.validate()?;
        Ok(DramPlacer {
            shape,
            policy,
            tier,
            device,
            fill: vec![0; shape.bank_groups],
            free: vec![Vec::new(); shape.bank_groups],
            next_rr: 0,
            window: ActivationWindow::new(shape.bank_groups, ACTIVATION_WINDOW),
        })
    }

    pub fn window(&mut self) -> &mut ActivationWindow {
        &mut self.window
    }

    pub fn capacity(&self) -> usize {
        self.shape.group_capacity() * self.shape.bank_groups
    }

    fn has_room(&self, g: usize) -> bool {
        !self.free[g].is_empty() || self.fill[g] < self.shape.group_capacity()
    }

    /// The group a new token goes to.
    fn choose_group(&mut self) -> Option<usize> {
        let n = self.shape.bank_groups;
        match self.policy {
            GroupPolicy::LeastActivated => {
                (0..n).filter(|&g| self.has_room(g)).min_by_key(|&g| (self.window.sums()[g], g))
            }
            GroupPolicy::RoundRobin => {
                let g = (0..n).map(|i| (self.next_rr + i) % n).find(|&g| self.has_room(g))?;
                self.next_rr = (g + 1) % n;
                Some(g)
            }
        }
    }

    /// Location for a new token.
    pub fn place(&mut self) -> Result<PhysLoc, PlacementError> {
        let g = self.choose_group().ok_or(PlacementError::Full { capacity: self.capacity() })?;
        if let Some(loc) = self.free[g].pop() {
            return Ok(loc);
        }
        let s = self.shape;
        let i = self.fill[g];
        self.fill[g] += 1;
        // Fill slot by slot, each slot across every PU of the group: tokens placed together
        // sit at the same row and column in all the group's banks.
        let (pu, slot) = (i % s.pus_per_group(), i / s.pus_per_group());
        let (row, in_row) = (slot / s.slots_per_row(), slot % s.slots_per_row());
        Ok(PhysLoc {
            tier: self.tier,
            device: self.device,
            bank_group: g as u16,
            bank: (pu * s.banks_per_pu) as u16,
            row: row as u32,
            col: (in_row * s.cols_per_token()) as u32,
        })
    }

    /// Returns a token's slot (after migration or eviction) for reuse.
    pub fn release(&mut self, loc: PhysLoc) {
        self.free[loc.bank_group as usize].push(loc);
    }

    fn is_full(&self) -> bool {
        !(0..self.shape.bank_groups).any(|g| self.has_room(g))
    }
}

/// The shape of a flash device as the mapping sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashShape {
    pub channels: usize,
    pub dies_per_channel: usize,
    pub pages_per_die: usize,
    pub page_bytes: usize,
    pub token_bytes: usize,
}

/// Places tokens in one flash device: channel first, then die, then the next page slot of
/// that die (flash-translation-layer interleaving). Pages are written log-style while the
/// device has never-used slots; then slots freed by migration are reused, channels still in
/// turn, as an FTL reclaims them (the device rewrites such a page: read, modify, program).
#[derive(Clone, Debug)]
pub struct FlashPlacer {
    shape: FlashShape,
    tier: u8,
    device: u16,
    /// Never-used slots taken per channel, slots freed per channel, the channel next in turn.
    fill: Vec<usize>,
    free: Vec<Vec<PhysLoc>>,
    next_channel: usize,
}

impl FlashPlacer {
    pub fn new(shape: FlashShape, tier: u8, device: u16) -> Result<Self, PlacementError> {
        if shape.channels == 0 || shape.dies_per_channel == 0 || shape.pages_per_die == 0 {
            return Err(PlacementError::Geometry("channels, dies per channel and pages must all be at least 1".into()));
        }
        if shape.token_bytes == 0 || shape.token_bytes > shape.page_bytes {
            return Err(PlacementError::TokenLargerThanRow { need: shape.token_bytes, have: shape.page_bytes });
        }
        let (fill, free) = (vec![0; shape.channels], vec![Vec::new(); shape.channels]);
        Ok(FlashPlacer { shape, tier, device, fill, free, next_channel: 0 })
    }

    fn channel_capacity(&self) -> usize {
        let s = self.shape;
        s.dies_per_channel * s.pages_per_die * (s.page_bytes / s.token_bytes)
    }

    pub fn capacity(&self) -> usize {
        self.shape.channels * self.channel_capacity()
    }

    fn is_full(&self) -> bool {
        (0..self.shape.channels).all(|c| self.free[c].is_empty() && self.fill[c] >= self.channel_capacity())
    }

    pub fn place(&mut self) -> Result<PhysLoc, PlacementError> {
        let s = self.shape;
        let turn = |k: usize| (self.next_channel + k) % s.channels;
        let loc = if let Some(c) = (0..s.channels).map(turn).find(|&c| self.fill[c] < self.channel_capacity()) {
            let i = self.fill[c];
            self.fill[c] += 1;
            let (die, slot) = (i % s.dies_per_channel, i / s.dies_per_channel);
            let per_page = s.page_bytes / s.token_bytes;
            PhysLoc {
                tier: self.tier,
                device: self.device,
                bank_group: c as u16,
                bank: die as u16,
                row: (slot / per_page) as u32,
                col: ((slot % per_page) * s.token_bytes) as u32,
            }
        } else {
            let c = (0..s.channels)
                .map(turn)
                .find(|&c| !self.free[c].is_empty())
                .ok_or(PlacementError::Full { capacity: self.capacity() })?;
            self.free[c].pop().expect("the channel has a freed slot")
        };
        self.next_channel = (loc.bank_group as usize + 1) % s.channels;
        Ok(loc)
    }

    /// Returns a token's slot (after migration) for reuse.
    pub fn release(&mut self, loc: PhysLoc) {
        self.free[loc.bank_group as usize].push(loc);
    }
}

#[derive(Clone, Debug)]
pub enum DevicePlacer {
    Dram(DramPlacer),
    Flash(FlashPlacer),
}

impl DevicePlacer {
    fn is_full(&self) -> bool {
        match self {
            DevicePlacer::Dram(p) => p.is_full(),
            DevicePlacer::Flash(p) => p.is_full(),
        }
    }

    /// A place for one token by the device's own rule.
    pub fn place(&mut self) -> Result<PhysLoc, PlacementError> {
        match self {
            DevicePlacer::Dram(p) => p.place(),
            DevicePlacer::Flash(p) => p.place(),
        }
    }

    /// Activations over the window (flash: none are counted).
    fn activations(&self) -> u64 {
        match self {
            DevicePlacer::Dram(p) => p.window.sums().iter().sum(),
            DevicePlacer::Flash(_) => 0,
        }
    }
}

/// Places the tokens of one tier over its devices, and inside each device by its rule.
#[derive(Clone, Debug)]
pub struct TierPlacer {
    devices: Vec<DevicePlacer>,
    stored: Vec<usize>,
}

impl TierPlacer {
    /// `devices[i]` must place with device index `i`.
    pub fn new(devices: Vec<DevicePlacer>) -> Self {
        TierPlacer { stored: vec![0; devices.len()], devices }
    }

    pub fn capacity(&self) -> usize {
        self.devices
            .iter()
            .map(|d| match d {
                DevicePlacer::Dram(p) => p.capacity(),
                DevicePlacer::Flash(p) => p.capacity(),
            })
            .sum()
    }

    /// Location for a new token.
    pub fn place(&mut self) -> Result<PhysLoc, PlacementError> {
        let d = (0..self.devices.len())
            .filter(|&d| !self.devices[d].is_full())
            .min_by_key(|&d| (self.devices[d].activations(), self.stored[d], d))
            .ok_or(PlacementError::Full { capacity: self.capacity() })?;
        let loc = match &mut self.devices[d] {
            DevicePlacer::Dram(p) => p.place(),
            DevicePlacer::Flash(p) => p.place(),
        }?;
        self.stored[d] += 1;
        Ok(loc)
    }

    /// Frees a token's place for reuse.
    pub fn release(&mut self, loc: PhysLoc) {
        let d = loc.device as usize;
        self.stored[d] -= 1;
        match &mut self.devices[d] {
            DevicePlacer::Dram(p) => p.release(loc),
            DevicePlacer::Flash(p) => p.release(loc),
        }
    }

    /// The token at `loc` was read by attention this step.
    pub fn attended(&mut self, loc: &PhysLoc) {
        if let DevicePlacer::Dram(p) = &mut self.devices[loc.device as usize] {
            p.window().record(loc.bank_group as usize, 1);
        }
    }

    pub fn end_step(&mut self) {
        for d in &mut self.devices {
            if let DevicePlacer::Dram(p) = d {
                p.window().end_step();
            }
        }
    }

    /// Tokens each device holds.
    pub fn stored(&self) -> &[usize] {
        &self.stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> DramShape {
        DramShape { bank_groups: 4, banks_per_group: 4, banks_per_pu: 2, rows: 2, cols: 32, token_beats: 16 }
    }

    #[test]
    fn slots_are_shared_across_the_pus_of_a_group() {
        let mut p = DramPlacer::new(shape(), GroupPolicy::RoundRobin, 0, 0).unwrap();
        let locs: Vec<PhysLoc> = (0..8).map(|_| p.place().unwrap()).collect();
        // Round robin over 4 groups: tokens 0 and 4 share group 0, in its two PUs, same slot.
        assert_eq!((locs[0].bank_group, locs[0].bank, locs[0].row, locs[0].col), (0, 0, 0, 0));
        assert_eq!((locs[4].bank_group, locs[4].bank, locs[4].row, locs[4].col), (0, 2, 0, 0));
        assert_eq!(p.capacity(), 4 * 2 * 2 * 4);
        let all: std::collections::HashSet<_> = (0..p.capacity() - 8).map(|_| p.place().unwrap()).chain(locs).collect();
        assert_eq!(all.len(), p.capacity(), "every slot used once");
        assert!(matches!(p.place(), Err(PlacementError::Full { .. })));
    }

    #[test]
    fn least_activated_group_takes_the_new_token() {
        let mut p = DramPlacer::new(shape(), GroupPolicy::LeastActivated, 0, 0).unwrap();
        for (g, n) in [(0, 5), (1, 2), (2, 9), (3, 2)] {
            p.window().record(g, n);
        }
        p.window().end_step();
        assert_eq!(p.place().unwrap().bank_group, 1, "tie between 1 and 3 goes to the lower index");
        // Activations older than the window no longer count.
        for _ in 0..ACTIVATION_WINDOW - 1 {
            p.window().record(3, 1);
            p.window().end_step();
        }
        assert_eq!(p.window().sums(), &[5, 2, 9, 11]);
        p.window().end_step();
        assert_eq!(p.window().sums(), &[0, 0, 0, 9]);
    }

    #[test]
    fn a_released_slot_is_reused_by_its_group() {
        let mut p = DramPlacer::new(shape(), GroupPolicy::RoundRobin, 0, 0).unwrap();
        let first = p.place().unwrap();
        for _ in 0..3 {
            p.place().unwrap();
        }
        p.release(first);
        assert_eq!(p.place().unwrap(), first, "group 0's next token takes the freed slot");
    }

    #[test]
    fn impossible_geometry_is_rejected() {
        let big = DramShape { token_beats: 80, ..shape() };
        assert_eq!(big.validate(), Err(PlacementError::TokenLargerThanRow { need: 40, have: 32 }));
        assert!(DramShape { bank_groups: 0, ..shape() }.validate().is_err());
        assert!(DramShape { token_beats: 0, ..shape() }.validate().is_err());
        assert!(DramShape { banks_per_pu: 3, ..shape() }.validate().is_err());
        assert!(FlashPlacer::new(
            FlashShape { channels: 2, dies_per_channel: 2, pages_per_die: 4, page_bytes: 100, token_bytes: 512 },
            2,
            0
        )
        .is_err());
    }

    #[test]
    fn flash_interleaves_channels_then_dies() {
        let s = FlashShape { channels: 4, dies_per_channel: 2, pages_per_die: 8, page_bytes: 16384, token_bytes: 512 };
        let mut p = FlashPlacer::new(s, 2, 0).unwrap();
        let l: Vec<PhysLoc> = (0..9).map(|_| p.place().unwrap()).collect();
        assert_eq!(l.iter().map(|x| x.bank_group).collect::<Vec<_>>(), vec![0, 1, 2, 3, 0, 1, 2, 3, 0]);
        assert_eq!(l.iter().map(|x| x.bank).collect::<Vec<_>>(), vec![0, 0, 0, 0, 1, 1, 1, 1, 0]);
        assert_eq!((l[8].row, l[8].col), (0, 512));
    }

    #[test]
    fn flash_reuses_freed_slots_and_fills_up_exactly() {
        let s = FlashShape { channels: 2, dies_per_channel: 2, pages_per_die: 1, page_bytes: 1024, token_bytes: 512 };
        let mut p = FlashPlacer::new(s, 2, 0).unwrap();
        let all: Vec<PhysLoc> = (0..8).map(|_| p.place().unwrap()).collect();
        assert_eq!(all.iter().collect::<std::collections::HashSet<_>>().len(), 8);
        assert_eq!(p.place(), Err(PlacementError::Full { capacity: 8 }));
        p.release(all[5]);
        p.release(all[2]);
        // Once no slot is new, the freed ones come back, still taking the channels in turn.
        let again = [p.place().unwrap(), p.place().unwrap()];
        assert_eq!(again.map(|l| l.bank_group), [0, 1]);
        assert_eq!(again.iter().collect::<std::collections::HashSet<_>>(), [all[2], all[5]].iter().collect());
        assert!(p.place().is_err());
        // While never-used slots remain, pages are written log-style.
        let mut p = FlashPlacer::new(s, 2, 0).unwrap();
        let first = p.place().unwrap();
        p.release(first);
        assert_ne!(p.place().unwrap(), first);
    }
}
