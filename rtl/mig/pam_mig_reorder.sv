// pam_mig_reorder: command-reorder unit on the sending side of the migration interface.
//
// Holds a window of SLOTS move descriptors (one per re-layout buffer slot: a descriptor is
// accepted only when the buffer has a free slot, and takes that slot's number, lowest first)
// and issues their source read requests, one beat per cycle, each tagged with its slot and
// beat index.
//
// Policy (one decision per cycle, among the descriptors with beats left to read):
//   1. open-row first: the oldest descriptor whose next beat falls in the row (page) that the
//      last request issued to that bank (die) opened, as an open-row table says;
//   2. else the oldest descriptor.
// A descriptor chosen by rule 1 keeps its row open, so its beats follow each other; a
// DRAM_PAIR token alternates between its two banks, both of which it opens in one row.
// Starvation bound: after MAX_BYPASS consecutive issues that passed over the oldest
// descriptor, the oldest one is taken regardless of rows.
// The open-row table is direct-mapped by the low OPEN_UNIT_B bits of the unit and the low
// OPEN_BANK_B bits of the bank, and tagged with the full unit and bank, so it is exact for
// devices of up to 2^OPEN_UNIT_B units of 2^OPEN_BANK_B banks (all scaled presets) and
// conservative (a miss) on an alias. Requests to the source are not otherwise timed: the
// memory behind rd_* applies its own timing through rd_ready_i.
//
// Latency: a descriptor accepted in cycle t can issue its first request in cycle t + 1; one
// request per cycle after that while rd_ready_i is high. rd_* depend on registers only.
module pam_mig_reorder
  import pam_mig_pkg::*;
#(
  parameter int unsigned SLOTS       = 8,
  parameter int unsigned NB_W        = 8,
  parameter int unsigned BEAT_LOG2   = 5,
  parameter int unsigned OPEN_UNIT_B = 3,
  parameter int unsigned OPEN_BANK_B = 3,
  parameter int unsigned MAX_BYPASS  = 32,
  localparam int unsigned SLOT_W = (SLOTS > 1) ? $clog2(SLOTS) : 1,
  localparam int unsigned OPEN_W = OPEN_UNIT_B + OPEN_BANK_B,
  localparam int unsigned OPEN_N = 1 << OPEN_W,
  localparam int unsigned BYP_W  = $clog2(MAX_BYPASS + 1)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // Free slots of the re-layout buffer.
  input  logic [SLOTS-1:0]  slot_free_i,
  // Descriptor: source layout, source address of beat 0, source beats.
  input  logic              desc_valid_i,
  output logic              desc_ready_o,
  input  logic [KIND_W-1:0] desc_kind_i,
  input  mig_addr_t         desc_addr_i,
  input  logic [NB_W-1:0]   desc_nbeats_i,
  // The slot an accepted descriptor took (pulse in the cycle of acceptance).
  output logic              alloc_o,
  output logic [SLOT_W-1:0] alloc_slot_o,
  // Source read requests.
  output logic              rd_valid_o,
  input  logic              rd_ready_i,
  output mig_addr_t         rd_addr_o,
  output logic [SLOT_W-1:0] rd_slot_o,
  output logic [NB_W-1:0]   rd_beat_o,
  output logic              rd_hit_o,
  // Some descriptor still has beats to request.
  output logic              pending_o
);
  localparam logic [BYP_W-1:0] BYP_MAX = BYP_W'(MAX_BYPASS);

  // Window entries (indexed by slot).
  logic [SLOTS-1:0]  v_q;
  logic [KIND_W-1:0] kind_q [SLOTS];
  mig_addr_t         base_q [SLOTS];
  logic [NB_W-1:0]   nb_q   [SLOTS];
  logic [NB_W-1:0]   beat_q [SLOTS];
  // older_q[j][i]: entry j arrived before entry i (meaningful for valid entries).
  logic [SLOTS-1:0]  older_q [SLOTS];
  // Open-row table.
  logic [OPEN_N-1:0] ov_q;
  logic [UNIT_W-1:0] ounit_q [OPEN_N];
  logic [BANK_W-1:0] obank_q [OPEN_N];
  logic [ROW_W-1:0]  orow_q  [OPEN_N];
  logic [BYP_W-1:0]  byp_q;

  // Next beat of every entry and whether it hits an open row.
  mig_addr_t         next_addr [SLOTS];
  logic [OPEN_W-1:0] next_idx  [SLOTS];
  logic [SLOTS-1:0]  hit;
  always_comb begin
    for (int i = 0; i < SLOTS; i++) begin
      next_addr[i] = beat_addr(kind_q[i], base_q[i], COL_W'(beat_q[i]), BEAT_LOG2);
      next_idx[i]  = {next_addr[i].unit[OPEN_UNIT_B-1:0], next_addr[i].bank[OPEN_BANK_B-1:0]};
      hit[i] = v_q[i] && ov_q[next_idx[i]] && ounit_q[next_idx[i]] == next_addr[i].unit
               && obank_q[next_idx[i]] == next_addr[i].bank && orow_q[next_idx[i]] == next_addr[i].row;
    end
  end

  // older_col[i]: the entries older than entry i (column i of older_q).
  logic [SLOTS-1:0] older_col [SLOTS];
  always_comb begin
    for (int i = 0; i < SLOTS; i++) begin
      for (int j = 0; j < SLOTS; j++) older_col[i][j] = older_q[j][i];
    end
  end

  // Oldest entry, oldest hitting entry, and the choice.
  logic              any_hit, use_hit;
  logic [SLOT_W-1:0] oldest, oldest_hit, pick;
  always_comb begin
    oldest     = '0;
    oldest_hit = '0;
    any_hit    = |hit;
    for (int i = 0; i < SLOTS; i++) begin
      if (v_q[i] && (v_q & older_col[i]) == '0) oldest = SLOT_W'(i);
      if (hit[i] && (hit & older_col[i]) == '0) oldest_hit = SLOT_W'(i);
    end
    use_hit = any_hit && byp_q != BYP_MAX;
    pick    = use_hit ? oldest_hit : oldest;
  end

  // Lowest free slot.
  logic              any_free;
  logic [SLOT_W-1:0] free_slot;
  always_comb begin
    any_free  = |slot_free_i;
    free_slot = '0;
    for (int i = SLOTS - 1; i >= 0; i--) if (slot_free_i[i]) free_slot = SLOT_W'(i);
  end

  assign desc_ready_o = any_free;
  assign alloc_o      = desc_valid_i && any_free;
  assign alloc_slot_o = free_slot;

  assign pending_o  = |v_q;
  assign rd_valid_o = |v_q;
  assign rd_addr_o  = next_addr[pick];
  assign rd_slot_o  = pick;
  assign rd_beat_o  = beat_q[pick];
  assign rd_hit_o   = hit[pick];

  wire               issue = rd_valid_o && rd_ready_i;
  wire               last  = beat_q[pick] == nb_q[pick] - 1'b1;
  wire [OPEN_W-1:0]  pidx  = next_idx[pick];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      v_q   <= '0;
      ov_q  <= '0;
      byp_q <= '0;
      for (int i = 0; i < SLOTS; i++) older_q[i] <= '0;
    end else begin
      if (issue) begin
        beat_q[pick] <= beat_q[pick] + 1'b1;
        if (last) v_q[pick] <= 1'b0;
        ov_q[pidx]    <= 1'b1;
        ounit_q[pidx] <= rd_addr_o.unit;
        obank_q[pidx] <= rd_addr_o.bank;
        orow_q[pidx]  <= rd_addr_o.row;
        if (pick == oldest) byp_q <= '0;
        else if (byp_q != BYP_MAX) byp_q <= byp_q + 1'b1;
      end
      if (alloc_o) begin
        v_q[free_slot]     <= 1'b1;
        kind_q[free_slot]  <= desc_kind_i;
        base_q[free_slot]  <= desc_addr_i;
        nb_q[free_slot]    <= desc_nbeats_i;
        beat_q[free_slot]  <= '0;
        older_q[free_slot] <= '0;
        for (int j = 0; j < SLOTS; j++) older_q[j][free_slot] <= v_q[j];
      end
    end
  end
endmodule
