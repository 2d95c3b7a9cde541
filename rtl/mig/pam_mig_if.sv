// pam_mig_if: the migration interface ("PAM interface", spec section 8) of one memory
// controller: moves tokens from a source device to a target device whose layouts and beat
// widths differ, converting the layout in flight (never through the host).
//
//   descriptor --> pam_mig_reorder --rd_*--> source memory --rdata_*--> pam_mig_buffer
//                  (open-row first)                                      (SLOTS tokens)
//                                      target memory <--wr_*-- pam_mig_addrgen <--'
//
// A descriptor names the source layout and address of beat 0, the target layout and address
// of beat 0, the token's length in source beats (SRC_W bits each; nbeats * SRC_W must be a
// multiple of DST_W and at most BUF_BYTES * 8) and a tag echoed with its writes. It takes a
// free buffer slot (desc_ready_o low when all SLOTS are in use, so the interface never holds
// more than SLOTS tokens). Source read requests carry the slot and beat index; the source
// answers on rdata_* in any order with the same slot and beat (rdata_ready_o is always high).
// Target writes carry the address in the target layout, DST_W bits of data, the tag, the
// target beat index and a last flag; a token's writes are consecutive and in beat order.
// Layout kinds: pam_mig_pkg (DRAM_SINGLE, DRAM_PAIR, FLASH).
//
// Latency: descriptor accepted in cycle t -> first read request in t + 1; last source beat
// of a token accepted in cycle t -> its first target write valid in t + 2. Throughput: one
// read request and one target write per cycle; SLOTS must be a power of two.
module pam_mig_if
  import pam_mig_pkg::*;
#(
  parameter int unsigned SRC_W     = 256,
  parameter int unsigned DST_W     = 256,
  parameter int unsigned SLOTS     = 8,
  parameter int unsigned BUF_BYTES = 1024,
  localparam int unsigned MIN_W    = (SRC_W < DST_W) ? SRC_W : DST_W,
  localparam int unsigned NB_W     = $clog2(BUF_BYTES * 8 / MIN_W) + 1,
  localparam int unsigned SLOT_W   = (SLOTS > 1) ? $clog2(SLOTS) : 1,
  localparam int unsigned HELD_W   = $clog2(SLOTS + 1),
  localparam int unsigned OFF_W    = $clog2(BUF_BYTES),
  localparam int unsigned SRC_LOG2 = $clog2(SRC_W / 8),
  localparam int unsigned DST_LOG2 = $clog2(DST_W / 8)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // Move descriptors.
  input  logic              desc_valid_i,
  output logic              desc_ready_o,
  input  logic [KIND_W-1:0] desc_src_kind_i,
  input  logic [UNIT_W-1:0] desc_src_unit_i,
  input  logic [BANK_W-1:0] desc_src_bank_i,
  input  logic [ROW_W-1:0]  desc_src_row_i,
  input  logic [COL_W-1:0]  desc_src_col_i,
  input  logic [KIND_W-1:0] desc_dst_kind_i,
  input  logic [UNIT_W-1:0] desc_dst_unit_i,
  input  logic [BANK_W-1:0] desc_dst_bank_i,
  input  logic [ROW_W-1:0]  desc_dst_row_i,
  input  logic [COL_W-1:0]  desc_dst_col_i,
  input  logic [NB_W-1:0]   desc_nbeats_i,
  input  logic [TAG_W-1:0]  desc_tag_i,
  // Source read requests.
  output logic              rd_valid_o,
  input  logic              rd_ready_i,
  output logic [UNIT_W-1:0] rd_unit_o,
  output logic [BANK_W-1:0] rd_bank_o,
  output logic [ROW_W-1:0]  rd_row_o,
  output logic [COL_W-1:0]  rd_col_o,
  output logic [SLOT_W-1:0] rd_slot_o,
  output logic [NB_W-1:0]   rd_beat_o,
  output logic              rd_hit_o,
  // Source read data.
  input  logic              rdata_valid_i,
  output logic              rdata_ready_o,
  input  logic [SLOT_W-1:0] rdata_slot_i,
  input  logic [NB_W-1:0]   rdata_beat_i,
  input  logic [SRC_W-1:0]  rdata_i,
  // Target writes.
  output logic              wr_valid_o,
  input  logic              wr_ready_i,
  output logic [UNIT_W-1:0] wr_unit_o,
  output logic [BANK_W-1:0] wr_bank_o,
  output logic [ROW_W-1:0]  wr_row_o,
  output logic [COL_W-1:0]  wr_col_o,
  output logic [DST_W-1:0]  wr_data_o,
  output logic [TAG_W-1:0]  wr_tag_o,
  output logic [NB_W-1:0]   wr_beat_o,
  output logic              wr_last_o,
  // Status: some token is in the interface; how many slots are in use.
  output logic              busy_o,
  output logic [HELD_W-1:0] held_o
);
  logic [SLOTS-1:0]  used, complete;
  logic              alloc, free;
  logic [SLOT_W-1:0] alloc_slot, free_slot, buf_slot;
  logic [OFF_W-1:0]  buf_off;
  logic [DST_W-1:0]  buf_data;
  mig_addr_t         rd_addr, wr_addr;
  logic              pending;

  // Target beats of the token: nbeats * SRC_W / DST_W.
  logic [NB_W-1:0] dst_nbeats;
  if (SRC_LOG2 >= DST_LOG2) begin : g_narrow
    assign dst_nbeats = desc_nbeats_i << (SRC_LOG2 - DST_LOG2);
  end else begin : g_widen
    assign dst_nbeats = desc_nbeats_i >> (DST_LOG2 - SRC_LOG2);
  end

  pam_mig_reorder #(
    .SLOTS    (SLOTS),
    .NB_W     (NB_W),
    .BEAT_LOG2(SRC_LOG2)
  ) u_reorder (
    .clk_i,
    .rst_ni,
    .slot_free_i  (~used),
    .desc_valid_i,
    .desc_ready_o,
    .desc_kind_i  (desc_src_kind_i),
    .desc_addr_i  ({desc_src_unit_i, desc_src_bank_i, desc_src_row_i, desc_src_col_i}),
    .desc_nbeats_i,
    .alloc_o      (alloc),
    .alloc_slot_o (alloc_slot),
    .rd_valid_o,
    .rd_ready_i,
    .rd_addr_o    (rd_addr),
    .rd_slot_o,
    .rd_beat_o,
    .rd_hit_o,
    .pending_o    (pending)
  );

  assign rd_unit_o = rd_addr.unit;
  assign rd_bank_o = rd_addr.bank;
  assign rd_row_o  = rd_addr.row;
  assign rd_col_o  = rd_addr.col;

  pam_mig_buffer #(
    .SLOTS    (SLOTS),
    .SRC_W    (SRC_W),
    .DST_W    (DST_W),
    .BUF_BYTES(BUF_BYTES),
    .NB_W     (NB_W)
  ) u_buffer (
    .clk_i,
    .rst_ni,
    .alloc_i       (alloc),
    .alloc_slot_i  (alloc_slot),
    .alloc_nbeats_i(desc_nbeats_i),
    .wr_valid_i    (rdata_valid_i),
    .wr_ready_o    (rdata_ready_o),
    .wr_slot_i     (rdata_slot_i),
    .wr_off_i      (OFF_W'(rdata_beat_i) << SRC_LOG2),
    .wr_data_i     (rdata_i),
    .rd_slot_i     (buf_slot),
    .rd_off_i      (buf_off),
    .rd_data_o     (buf_data),
    .free_i        (free),
    .free_slot_i   (free_slot),
    .used_o        (used),
    .complete_o    (complete)
  );

  pam_mig_addrgen #(
    .SLOTS    (SLOTS),
    .DST_W    (DST_W),
    .BUF_BYTES(BUF_BYTES),
    .NB_W     (NB_W)
  ) u_addrgen (
    .clk_i,
    .rst_ni,
    .alloc_i       (alloc),
    .alloc_slot_i  (alloc_slot),
    .alloc_kind_i  (desc_dst_kind_i),
    .alloc_addr_i  ({desc_dst_unit_i, desc_dst_bank_i, desc_dst_row_i, desc_dst_col_i}),
    .alloc_nbeats_i(dst_nbeats),
    .alloc_tag_i   (desc_tag_i),
    .complete_i    (complete),
    .buf_slot_o    (buf_slot),
    .buf_off_o     (buf_off),
    .buf_data_i    (buf_data),
    .free_o        (free),
    .free_slot_o   (free_slot),
    .wr_valid_o,
    .wr_ready_i,
    .wr_addr_o     (wr_addr),
    .wr_data_o,
    .wr_tag_o,
    .wr_beat_o,
    .wr_last_o
  );

  assign wr_unit_o = wr_addr.unit;
  assign wr_bank_o = wr_addr.bank;
  assign wr_row_o  = wr_addr.row;
  assign wr_col_o  = wr_addr.col;

  always_comb begin
    held_o = '0;
    for (int s = 0; s < SLOTS; s++) held_o = held_o + HELD_W'(used[s]);
  end
  assign busy_o = |used;

  // Every slot in the reorder window is in use; the flag is for waveforms.
  logic unused_pending;
  assign unused_pending = pending;

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): every source and target layout pair (per beat-width
  // pair: each width pair is its own top), back-pressure on every handshake, a full window,
  // open-row hits and misses.
  c_layout_single_to_single: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_DRAM_SINGLE && desc_dst_kind_i == LAYOUT_DRAM_SINGLE);
  c_layout_single_to_pair: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_DRAM_SINGLE && desc_dst_kind_i == LAYOUT_DRAM_PAIR);
  c_layout_single_to_flash: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_DRAM_SINGLE && desc_dst_kind_i == LAYOUT_FLASH);
  c_layout_pair_to_single: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_DRAM_PAIR && desc_dst_kind_i == LAYOUT_DRAM_SINGLE);
  c_layout_pair_to_pair: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_DRAM_PAIR && desc_dst_kind_i == LAYOUT_DRAM_PAIR);
  c_layout_pair_to_flash: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_DRAM_PAIR && desc_dst_kind_i == LAYOUT_FLASH);
  c_layout_flash_to_single: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_FLASH && desc_dst_kind_i == LAYOUT_DRAM_SINGLE);
  c_layout_flash_to_pair: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_FLASH && desc_dst_kind_i == LAYOUT_DRAM_PAIR);
  c_layout_flash_to_flash: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && desc_ready_o && desc_src_kind_i == LAYOUT_FLASH && desc_dst_kind_i == LAYOUT_FLASH);
  c_desc_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) desc_valid_i && !desc_ready_o);
  c_all_slots_used: cover property (@(posedge clk_i) disable iff (!rst_ni) held_o == HELD_W'(SLOTS));
  c_rd_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) rd_valid_o && !rd_ready_i);
  c_rd_open_row: cover property (@(posedge clk_i) disable iff (!rst_ni) rd_valid_o && rd_ready_i && rd_hit_o);
  c_rd_new_row: cover property (@(posedge clk_i) disable iff (!rst_ni) rd_valid_o && rd_ready_i && !rd_hit_o);
  c_rdata_and_wr: cover property (@(posedge clk_i) disable iff (!rst_ni) rdata_valid_i && wr_valid_o && wr_ready_i);
  c_wr_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) wr_valid_o && !wr_ready_i);
  c_wr_last: cover property (@(posedge clk_i) disable iff (!rst_ni) wr_valid_o && wr_ready_i && wr_last_o);
`endif
endmodule
