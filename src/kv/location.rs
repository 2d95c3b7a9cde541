//! Physical token locations.

/// Where one token's K and V live. DRAM tiers use (bank group, bank, row, column): with one PU
/// per bank pair, `bank` is the pair's even bank and the token is striped over both banks at
/// the same row and columns. Flash uses (channel, die, page, offset): `bank_group` is the
/// channel, `bank` the die, `row` the page and `col` the byte offset in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhysLoc {
    pub tier: u8,
    pub device: u16,
    pub bank_group: u16,
    pub bank: u16,
    pub row: u32,
    pub col: u32,
}
