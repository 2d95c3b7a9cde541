// pam_fifo: synchronous FIFO with valid/ready on both sides.
//
// Used as the PU's input buffer: it decouples the memory's column-access rhythm from the
// PU's compute rhythm. DEPTH entries of WIDTH bits; full throughput (one push and one pop
// per cycle); latency 1 cycle from push to pop (no fall-through). Synchronous active-low reset
// empties the FIFO; the storage itself is not reset.
module pam_fifo #(
  parameter int unsigned WIDTH = 32,
  parameter int unsigned DEPTH = 4,
  localparam int unsigned PTR_W = (DEPTH > 1) ? $clog2(DEPTH) : 1,
  localparam int unsigned CNT_W = $clog2(DEPTH + 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [WIDTH-1:0] in_data_i,
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [WIDTH-1:0] out_data_o
);
  localparam logic [PTR_W-1:0] LAST = PTR_W'(DEPTH - 1);

  logic [WIDTH-1:0] mem_q [DEPTH];
  logic [PTR_W-1:0] rd_q, wr_q;
  logic [CNT_W-1:0] cnt_q;

  wire push = in_valid_i && in_ready_o;
  wire pop  = out_valid_o && out_ready_i;

  assign in_ready_o  = cnt_q != CNT_W'(DEPTH);
  assign out_valid_o = cnt_q != '0;
  assign out_data_o  = mem_q[rd_q];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      rd_q  <= '0;
      wr_q  <= '0;
      cnt_q <= '0;
    end else begin
      if (push) begin
        mem_q[wr_q] <= in_data_i;
        wr_q        <= (wr_q == LAST) ? '0 : wr_q + 1'b1;
      end
      if (pop) rd_q <= (rd_q == LAST) ? '0 : rd_q + 1'b1;
      if (push && !pop) cnt_q <= cnt_q + 1'b1;
      else if (pop && !push) cnt_q <= cnt_q - 1'b1;
    end
  end

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): empty, full, back-pressure on both sides.
  c_empty: cover property (@(posedge clk_i) disable iff (!rst_ni) !out_valid_o);
  c_full: cover property (@(posedge clk_i) disable iff (!rst_ni) !in_ready_o);
  c_in_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !in_ready_o);
  c_out_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  c_push_pop: cover property (@(posedge clk_i) disable iff (!rst_ni) push && pop);
  c_pop_full: cover property (@(posedge clk_i) disable iff (!rst_ni) pop && !in_ready_o);
`endif
endmodule
