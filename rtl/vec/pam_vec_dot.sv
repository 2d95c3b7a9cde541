// pam_vec_dot: masked dot product of LANES FP32 pairs, one beat per cycle, combinational.
//
// Products are exact (the operands are FP16 widened to FP32: 11 x 11 significant bits fit in
// 24). Masked lanes contribute +0. The LANES products are summed by a balanced tree in lane
// order, ((p0 + p1) + (p2 + p3)) + ..., every adder rounding to nearest even; the golden model
// mirrors this order. LANES must be a power of two. Latency 0 cycles.
module pam_vec_dot #(
  parameter int unsigned LANES = 16
) (
  input  logic [LANES-1:0][31:0] a_i,
  input  logic [LANES-1:0][31:0] b_i,
  input  logic [LANES-1:0]       mask_i,
  output logic [31:0]            y_o
);
  localparam int unsigned NODES = 2 * LANES - 1;
  localparam logic [31:0] POS_ZERO = 32'h0000_0000;

  // Heap-ordered tree: node j sums nodes 2j+1 and 2j+2; leaves are nodes LANES-1 .. NODES-1.
  logic [NODES-1:0][31:0] node;

  if ((LANES & (LANES - 1)) != 0) begin : g_lanes_check
    $error("pam_vec_dot: LANES must be a power of two");
  end

  for (genvar i = 0; i < LANES; i++) begin : g_leaf
    logic [31:0] prod;
    pam_fp32_mul u_mul (.a_i(a_i[i]), .b_i(b_i[i]), .y_o(prod));
    assign node[LANES - 1 + i] = mask_i[i] ? prod : POS_ZERO;
  end

  for (genvar j = 0; j < LANES - 1; j++) begin : g_node
    pam_fp32_add u_add (.a_i(node[2 * j + 1]), .b_i(node[2 * j + 2]), .y_o(node[j]));
  end

  assign y_o = node[0];
endmodule
