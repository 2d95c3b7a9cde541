// pam_mig_addrgen: address generation on the receiving side of the migration interface.
//
// Keeps, per buffer slot, the target layout, the target address of beat 0, the target beat
// count and the caller's tag (set by alloc_i when the descriptor is accepted). Takes complete
// slots one at a time, round robin from the slot after the last one taken, and for each beat
// j of the token reads the re-layout buffer at byte offset j * DST_W/8 and issues the write
// of that beat at its address in the target layout (pam_mig_pkg::beat_addr). The slot is freed
// in the cycle its last write is accepted.
//
// Latency: a slot complete in cycle t gives its first write on wr_* in cycle t + 1 (the write
// output is a register, which is also the buffer's read register); then one write per cycle
// while wr_ready_i is high, back to back across tokens. wr_* depend on registers only.
module pam_mig_addrgen
  import pam_mig_pkg::*;
#(
  parameter int unsigned SLOTS     = 8,
  parameter int unsigned DST_W     = 256,
  parameter int unsigned BUF_BYTES = 1024,
  parameter int unsigned NB_W      = 8,
  localparam int unsigned SLOT_W   = (SLOTS > 1) ? $clog2(SLOTS) : 1,
  localparam int unsigned OFF_W    = $clog2(BUF_BYTES),
  localparam int unsigned DST_LOG2 = $clog2(DST_W / 8)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // Target of a slot, given when its descriptor is accepted.
  input  logic              alloc_i,
  input  logic [SLOT_W-1:0] alloc_slot_i,
  input  logic [KIND_W-1:0] alloc_kind_i,
  input  mig_addr_t         alloc_addr_i,
  input  logic [NB_W-1:0]   alloc_nbeats_i,
  input  logic [TAG_W-1:0]  alloc_tag_i,
  // Slots whose token is fully in the buffer.
  input  logic [SLOTS-1:0]  complete_i,
  // Buffer read port.
  output logic [SLOT_W-1:0] buf_slot_o,
  output logic [OFF_W-1:0]  buf_off_o,
  input  logic [DST_W-1:0]  buf_data_i,
  // Slot release.
  output logic              free_o,
  output logic [SLOT_W-1:0] free_slot_o,
  // Target writes.
  output logic              wr_valid_o,
  input  logic              wr_ready_i,
  output mig_addr_t         wr_addr_o,
  output logic [DST_W-1:0]  wr_data_o,
  output logic [TAG_W-1:0]  wr_tag_o,
  output logic [NB_W-1:0]   wr_beat_o,
  output logic              wr_last_o
);
  logic [KIND_W-1:0] kind_q [SLOTS];
  mig_addr_t         base_q [SLOTS];
  logic [NB_W-1:0]   nb_q   [SLOTS];
  logic [TAG_W-1:0]  tag_q  [SLOTS];
  logic [SLOTS-1:0]  taken_q;
  logic [SLOT_W-1:0] rr_q;
  // Token being written.
  logic              active_q;
  logic [SLOT_W-1:0] slot_q;
  logic [NB_W-1:0]   beat_q;
  // Write output register.
  logic              out_valid_q, out_last_q;
  mig_addr_t         out_addr_q;
  logic [DST_W-1:0]  out_data_q;
  logic [TAG_W-1:0]  out_tag_q;
  logic [NB_W-1:0]   out_beat_q;
  logic [SLOT_W-1:0] out_slot_q;

  // Round robin over complete slots not yet taken (SLOTS is a power of two).
  wire [SLOTS-1:0]   cand = complete_i & ~taken_q;
  logic              any_cand;
  logic [SLOT_W-1:0] pick;
  always_comb begin
    any_cand = |cand;
    pick     = rr_q;
    for (int k = SLOTS - 1; k >= 0; k--) begin
      if (cand[rr_q+SLOT_W'(k)]) pick = rr_q + SLOT_W'(k);
    end
  end

  wire [SLOT_W-1:0] cur_slot = active_q ? slot_q : pick;
  wire [NB_W-1:0]   cur_beat = active_q ? beat_q : '0;
  wire              fire     = out_valid_q && wr_ready_i;
  wire              go       = (active_q || any_cand) && (!out_valid_q || wr_ready_i);
  wire              last     = cur_beat == nb_q[cur_slot] - 1'b1;
  wire mig_addr_t   cur_addr = beat_addr(kind_q[cur_slot], base_q[cur_slot], COL_W'(cur_beat), DST_LOG2);

  assign buf_slot_o  = cur_slot;
  assign buf_off_o   = OFF_W'(cur_beat) << DST_LOG2;
  assign free_o      = fire && out_last_q;
  assign free_slot_o = out_slot_q;

  assign wr_valid_o = out_valid_q;
  assign wr_addr_o  = out_addr_q;
  assign wr_data_o  = out_data_q;
  assign wr_tag_o   = out_tag_q;
  assign wr_beat_o  = out_beat_q;
  assign wr_last_o  = out_last_q;

  always_ff @(posedge clk_i) begin
    if (alloc_i) begin
      kind_q[alloc_slot_i] <= alloc_kind_i;
      base_q[alloc_slot_i] <= alloc_addr_i;
      nb_q[alloc_slot_i]   <= alloc_nbeats_i;
      tag_q[alloc_slot_i]  <= alloc_tag_i;
    end
    if (go) begin
      out_addr_q <= cur_addr;
      out_data_q <= buf_data_i;
      out_tag_q  <= tag_q[cur_slot];
      out_beat_q <= cur_beat;
      out_last_q <= last;
      out_slot_q <= cur_slot;
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      taken_q     <= '0;
      rr_q        <= '0;
      active_q    <= 1'b0;
      slot_q      <= '0;
      beat_q      <= '0;
      out_valid_q <= 1'b0;
    end else begin
      if (free_o) taken_q[out_slot_q] <= 1'b0;
      if (go) begin
        out_valid_q <= 1'b1;
        if (!active_q) begin
          taken_q[pick] <= 1'b1;
          rr_q          <= pick + 1'b1;
        end
        active_q <= !last;
        slot_q   <= cur_slot;
        beat_q   <= cur_beat + 1'b1;
      end else if (fire) begin
        out_valid_q <= 1'b0;
      end
    end
  end
endmodule
