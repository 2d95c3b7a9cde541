//! The systems compared (SERVING-SPEC §7) and what each is made of.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A system by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemKind {
    /// Importance-driven placement, the online scheduler, PAMattention with RU merges,
    /// migrations through the migration interface; sparse.
    Pam,
    /// Attention on the GPU; KV beyond HBM in DDR then SSD, streamed over PCIe every layer.
    VllmOffload,
    /// Attention in HBM-PIM; KV in HBM only.
    Attacc,
    /// PIM in every tier, KV filled top tier first, static, every token attended.
    Lpim,
    /// As lpim, sparse.
    Lspim,
    /// pam without PAMattention: each request's attention in one device per tier, partials
    /// merged on the GPU.
    PamNoPamattention,
    /// pam without the KV mapping: bank groups filled round robin, access frequency ignored.
    PamNoMapping,
    /// pam without the scheduler: the initial placement kept.
    PamNoScheduler,
}

impl SystemKind {
    pub const ALL: [SystemKind; 8] = [
        SystemKind::Pam,
        SystemKind::VllmOffload,
        SystemKind::Attacc,
        SystemKind::Lpim,
        SystemKind::Lspim,
        SystemKind::PamNoPamattention,
        SystemKind::PamNoMapping,
        SystemKind::PamNoScheduler,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SystemKind::Pam => "pam",
            SystemKind::VllmOffload => "vllm-offload",
            SystemKind::Attacc => "attacc",
            SystemKind::Lpim => "lpim",
            SystemKind::Lspim => "lspim",
            SystemKind::PamNoPamattention => "pam-no-pamattention",
            SystemKind::PamNoMapping => "pam-no-mapping",
            SystemKind::PamNoScheduler => "pam-no-scheduler",
        }
    }

    pub fn by_name(name: &str) -> Option<SystemKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|k| k.name()).collect()
    }

    /// Whether it attends only the selected tokens by default (pam and lspim, as the reference;
    /// every system takes `sparse: true|false`).
    pub fn sparse_by_default(self) -> bool {
        !matches!(self, SystemKind::VllmOffload | SystemKind::Attacc | SystemKind::Lpim)
    }

    /// Decode attention runs in the tiers' PIM (else on the GPU).
    pub fn pim(self) -> bool {
        self != SystemKind::VllmOffload
    }

    /// KV only in the first tier (the GPUs' HBM).
    pub fn top_tier_only(self) -> bool {
        self == SystemKind::Attacc
    }

    /// The online scheduler moves positions between tiers.
    pub fn scheduler(self) -> bool {
        matches!(self, SystemKind::Pam | SystemKind::PamNoPamattention | SystemKind::PamNoMapping)
    }

    /// Fine-grained attention over every device of a tier, partials merged by the RUs.
    /// **Decision:** L-PIM and LS-PIM split each request's attention coarsely (one device per
    /// tier, partials merged on the GPU), as the ablation without PAMattention, since
    /// PAMattention is PAM's; AttAcc spreads attention over every HBM stack, as its design does.
    pub fn pamattention(self) -> bool {
        !matches!(self, SystemKind::Lpim | SystemKind::Lspim | SystemKind::PamNoPamattention)
    }

    /// The intra-device KV mapping balances the attended tokens over the PUs (L-PIM and LS-PIM
    /// fill bank groups round robin, as the ablation without the mapping).
    pub fn mapping(self) -> bool {
        !matches!(self, SystemKind::Lpim | SystemKind::Lspim | SystemKind::PamNoMapping)
    }
}

impl fmt::Display for SystemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
