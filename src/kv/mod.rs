//! KV management on the host: where every token's K and V physically live.
//!
//! * [`location`]: a token's physical address in a tier's device.
//! * [`placement`]: the intra-device mapping rules of spec §6: least-activated bank group for
//!   DRAM tiers, channel interleaving for flash.
//! * [`workload`]: a skewed token-use workload that compares placement rules.
//! * [`block_table`]: the host's paged table from (request, layer, KV head, position) to a
//!   physical location.

pub mod block_table;
pub mod location;
pub mod placement;
pub mod workload;
