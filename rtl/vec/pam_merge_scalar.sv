// pam_merge_scalar: the scalar half of one online-softmax merge (spec section 5).
//
// Merges an incoming part (m_in, l_in) into an accumulator (m_acc, l_acc):
//   m   = max(m_acc, m_in)
//   sa  = exp(m_acc - m),  si = exp(m_in - m)     (one of the two is exp(0) = 1 exactly,
//                                                   so only one exponential is evaluated)
//   l   = l_acc * sa + l_in * si
// and returns the two scale factors for the vector half (pam_vec_axpby). A PU folds a token
// in as a part with m_in = its score and l_in = 1. An empty part (m_in = -inf) contributes
// nothing: sa = 1, si = 0. Latency 0 cycles (one exp, one add, two multiplies, one add deep).
module pam_merge_scalar (
  input  logic [31:0] m_acc_i,
  input  logic [31:0] l_acc_i,
  input  logic [31:0] m_in_i,
  input  logic [31:0] l_in_i,
  output logic [31:0] m_o,
  output logic [31:0] l_o,
  output logic [31:0] scale_acc_o,
  output logic [31:0] scale_in_o
);
  localparam logic [31:0] NEG_INF  = 32'hFF80_0000;
  localparam logic [31:0] ONE      = 32'h3F80_0000;
  localparam logic [31:0] POS_ZERO = 32'h0000_0000;
  localparam logic [31:0] SIGN     = 32'h8000_0000;

  logic [31:0] m_new, diff, e, l_acc_scaled, l_in_scaled;
  logic        in_empty, take_in;

  pam_fp32_max u_max (.a_i(m_acc_i), .b_i(m_in_i), .y_o(m_new));

  // Equal bit patterns give exp(+0) = 1 on both sides whichever branch is taken.
  assign take_in  = (m_new == m_in_i);
  assign in_empty = (m_in_i == NEG_INF);

  pam_fp32_add u_diff (
    .a_i(take_in ? m_acc_i : m_in_i),
    .b_i(take_in ? (m_in_i ^ SIGN) : (m_acc_i ^ SIGN)),
    .y_o(diff)
  );
  pam_fp32_exp u_exp (.x_i(diff), .y_o(e));

  assign scale_acc_o = (in_empty || !take_in) ? ONE : e;
  assign scale_in_o  = in_empty ? POS_ZERO : (take_in ? ONE : e);
  assign m_o         = m_new;

  pam_fp32_mul u_mul_acc (.a_i(l_acc_i), .b_i(scale_acc_o), .y_o(l_acc_scaled));
  pam_fp32_mul u_mul_in  (.a_i(l_in_i),  .b_i(scale_in_o),  .y_o(l_in_scaled));
  pam_fp32_add u_add_l   (.a_i(l_acc_scaled), .b_i(l_in_scaled), .y_o(l_o));
endmodule
