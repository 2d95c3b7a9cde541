// pam_mig_buffer: the dual-ported re-layout buffer of the migration interface.
//
// SLOTS slots of BUF_BYTES bytes, one token each. The write port (sender side) stores one
// SRC_W-bit source beat per cycle at a byte offset of a slot; the read port (receiver side)
// reads one DST_W-bit target beat per cycle at a byte offset of a slot, so a token written as
// 32-byte beats can be read as 8-byte beats and the other way round. Storage is words of
// min(SRC_W, DST_W) bits; offsets must be multiples of the port's beat bytes.
//
// Slot bookkeeping: alloc_i claims a slot for a token of alloc_nbeats_i source beats (used);
// every write counts; complete_o[s] is high once all of slot s's source beats are written,
// until free_i releases the slot. The write port is always ready.
//
// Latency: a write in cycle t is readable and counted from cycle t + 1 (complete_o rises in
// t + 1 after the token's last beat); the read port is combinational (address to data in the
// same cycle: the reader registers it, which makes a one-cycle synchronous read); a free in
// cycle t clears used_o from t + 1.
module pam_mig_buffer #(
  parameter int unsigned SLOTS     = 8,
  parameter int unsigned SRC_W     = 256,
  parameter int unsigned DST_W     = 256,
  parameter int unsigned BUF_BYTES = 1024,
  parameter int unsigned NB_W      = 8,
  localparam int unsigned SLOT_W    = (SLOTS > 1) ? $clog2(SLOTS) : 1,
  localparam int unsigned OFF_W     = $clog2(BUF_BYTES),
  localparam int unsigned G_W       = (SRC_W < DST_W) ? SRC_W : DST_W,
  localparam int unsigned G_LOG2    = $clog2(G_W / 8),
  localparam int unsigned WPS       = BUF_BYTES / (G_W / 8),
  localparam int unsigned WD_W      = $clog2(WPS),
  localparam int unsigned SRC_WORDS = SRC_W / G_W,
  localparam int unsigned DST_WORDS = DST_W / G_W
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // Slot allocation.
  input  logic              alloc_i,
  input  logic [SLOT_W-1:0] alloc_slot_i,
  input  logic [NB_W-1:0]   alloc_nbeats_i,
  // Write port (source beats).
  input  logic              wr_valid_i,
  output logic              wr_ready_o,
  input  logic [SLOT_W-1:0] wr_slot_i,
  input  logic [OFF_W-1:0]  wr_off_i,
  input  logic [SRC_W-1:0]  wr_data_i,
  // Read port (target beats).
  input  logic [SLOT_W-1:0] rd_slot_i,
  input  logic [OFF_W-1:0]  rd_off_i,
  output logic [DST_W-1:0]  rd_data_o,
  // Slot release.
  input  logic              free_i,
  input  logic [SLOT_W-1:0] free_slot_i,
  // Slot state.
  output logic [SLOTS-1:0]  used_o,
  output logic [SLOTS-1:0]  complete_o
);
  logic [G_W-1:0]   mem_q [SLOTS][WPS];
  logic [SLOTS-1:0] used_q;
  logic [NB_W-1:0]  need_q [SLOTS];
  logic [NB_W-1:0]  cnt_q  [SLOTS];

  wire [WD_W-1:0] wr_word = wr_off_i[OFF_W-1:G_LOG2];
  wire [WD_W-1:0] rd_word = rd_off_i[OFF_W-1:G_LOG2];
  // Offsets are beat-aligned: the bits below a storage word are not looked at.
  logic unused_off;
  assign unused_off = ^{wr_off_i[G_LOG2-1:0], rd_off_i[G_LOG2-1:0]};

  assign wr_ready_o = 1'b1;
  wire   write      = wr_valid_i && wr_ready_o;

  always_comb begin
    for (int k = 0; k < DST_WORDS; k++) rd_data_o[k*G_W+:G_W] = mem_q[rd_slot_i][rd_word+WD_W'(k)];
  end

  always_comb begin
    for (int s = 0; s < SLOTS; s++) complete_o[s] = used_q[s] && cnt_q[s] == need_q[s];
  end
  assign used_o = used_q;

  always_ff @(posedge clk_i) begin
    if (write) begin
      for (int k = 0; k < SRC_WORDS; k++) mem_q[wr_slot_i][wr_word+WD_W'(k)] <= wr_data_i[k*G_W+:G_W];
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      used_q <= '0;
    end else begin
      if (write) cnt_q[wr_slot_i] <= cnt_q[wr_slot_i] + 1'b1;
      if (alloc_i) begin
        used_q[alloc_slot_i] <= 1'b1;
        need_q[alloc_slot_i] <= alloc_nbeats_i;
        cnt_q[alloc_slot_i]  <= '0;
      end
      if (free_i) used_q[free_slot_i] <= 1'b0;
    end
  end
endmodule
