// pam_log2_lut: LOG2_LUT[k] = round(log2(1 + k/128) * 2^23), knots of the piecewise-linear log2(1+m) used by pam_fp32_ln.
// GENERATED TABLE (do not edit by hand): 129 entries, index 0..128; any other
// index returns 0. Must equal the Rust golden model table in src/golden/fp.rs
// (checked by a unit test there).
// Latency: combinational. Special values: none (pure table).

module pam_log2_lut (
  input  logic [7:0]  idx_i,
  output logic [23:0] val_o
);

  always_comb begin
    case (idx_i)
      8'd0: val_o = 24'd0;
      8'd1: val_o = 24'd94181;
      8'd2: val_o = 24'd187635;
      8'd3: val_o = 24'd280372;
      8'd4: val_o = 24'd372405;
      8'd5: val_o = 24'd463743;
      8'd6: val_o = 24'd554396;
      8'd7: val_o = 24'd644376;
      8'd8: val_o = 24'd733691;
      8'd9: val_o = 24'd822353;
      8'd10: val_o = 24'd910369;
      8'd11: val_o = 24'd997750;
      8'd12: val_o = 24'd1084505;
      8'd13: val_o = 24'd1170642;
      8'd14: val_o = 24'd1256170;
      8'd15: val_o = 24'd1341098;
      8'd16: val_o = 24'd1425434;
      8'd17: val_o = 24'd1509187;
      8'd18: val_o = 24'd1592364;
      8'd19: val_o = 24'd1674973;
      8'd20: val_o = 24'd1757022;
      8'd21: val_o = 24'd1838519;
      8'd22: val_o = 24'd1919470;
      8'd23: val_o = 24'd1999884;
      8'd24: val_o = 24'd2079767;
      8'd25: val_o = 24'd2159126;
      8'd26: val_o = 24'd2237968;
      8'd27: val_o = 24'd2316299;
      8'd28: val_o = 24'd2394127;
      8'd29: val_o = 24'd2471458;
      8'd30: val_o = 24'd2548298;
      8'd31: val_o = 24'd2624652;
      8'd32: val_o = 24'd2700529;
      8'd33: val_o = 24'd2775932;
      8'd34: val_o = 24'd2850868;
      8'd35: val_o = 24'd2925344;
      8'd36: val_o = 24'd2999364;
      8'd37: val_o = 24'd3072933;
      8'd38: val_o = 24'd3146059;
      8'd39: val_o = 24'd3218745;
      8'd40: val_o = 24'd3290997;
      8'd41: val_o = 24'd3362820;
      8'd42: val_o = 24'd3434220;
      8'd43: val_o = 24'd3505201;
      8'd44: val_o = 24'd3575768;
      8'd45: val_o = 24'd3645926;
      8'd46: val_o = 24'd3715679;
      8'd47: val_o = 24'd3785033;
      8'd48: val_o = 24'd3853992;
      8'd49: val_o = 24'd3922560;
      8'd50: val_o = 24'd3990741;
      8'd51: val_o = 24'd4058541;
      8'd52: val_o = 24'd4125963;
      8'd53: val_o = 24'd4193011;
      8'd54: val_o = 24'd4259690;
      8'd55: val_o = 24'd4326004;
      8'd56: val_o = 24'd4391956;
      8'd57: val_o = 24'd4457551;
      8'd58: val_o = 24'd4522792;
      8'd59: val_o = 24'd4587683;
      8'd60: val_o = 24'd4652228;
      8'd61: val_o = 24'd4716431;
      8'd62: val_o = 24'd4780295;
      8'd63: val_o = 24'd4843824;
      8'd64: val_o = 24'd4907021;
      8'd65: val_o = 24'd4969890;
      8'd66: val_o = 24'd5032434;
      8'd67: val_o = 24'd5094656;
      8'd68: val_o = 24'd5156560;
      8'd69: val_o = 24'd5218149;
      8'd70: val_o = 24'd5279426;
      8'd71: val_o = 24'd5340394;
      8'd72: val_o = 24'd5401057;
      8'd73: val_o = 24'd5461417;
      8'd74: val_o = 24'd5521478;
      8'd75: val_o = 24'd5581242;
      8'd76: val_o = 24'd5640713;
      8'd77: val_o = 24'd5699892;
      8'd78: val_o = 24'd5758784;
      8'd79: val_o = 24'd5817390;
      8'd80: val_o = 24'd5875714;
      8'd81: val_o = 24'd5933758;
      8'd82: val_o = 24'd5991526;
      8'd83: val_o = 24'd6049018;
      8'd84: val_o = 24'd6106239;
      8'd85: val_o = 24'd6163191;
      8'd86: val_o = 24'd6219876;
      8'd87: val_o = 24'd6276297;
      8'd88: val_o = 24'd6332455;
      8'd89: val_o = 24'd6388355;
      8'd90: val_o = 24'd6443997;
      8'd91: val_o = 24'd6499385;
      8'd92: val_o = 24'd6554520;
      8'd93: val_o = 24'd6609406;
      8'd94: val_o = 24'd6664043;
      8'd95: val_o = 24'd6718435;
      8'd96: val_o = 24'd6772584;
      8'd97: val_o = 24'd6826491;
      8'd98: val_o = 24'd6880160;
      8'd99: val_o = 24'd6933591;
      8'd100: val_o = 24'd6986788;
      8'd101: val_o = 24'd7039752;
      8'd102: val_o = 24'd7092485;
      8'd103: val_o = 24'd7144989;
      8'd104: val_o = 24'd7197266;
      8'd105: val_o = 24'd7249319;
      8'd106: val_o = 24'd7301148;
      8'd107: val_o = 24'd7352757;
      8'd108: val_o = 24'd7404147;
      8'd109: val_o = 24'd7455319;
      8'd110: val_o = 24'd7506275;
      8'd111: val_o = 24'd7557019;
      8'd112: val_o = 24'd7607550;
      8'd113: val_o = 24'd7657871;
      8'd114: val_o = 24'd7707984;
      8'd115: val_o = 24'd7757890;
      8'd116: val_o = 24'd7807591;
      8'd117: val_o = 24'd7857089;
      8'd118: val_o = 24'd7906385;
      8'd119: val_o = 24'd7955481;
      8'd120: val_o = 24'd8004379;
      8'd121: val_o = 24'd8053080;
      8'd122: val_o = 24'd8101586;
      8'd123: val_o = 24'd8149898;
      8'd124: val_o = 24'd8198018;
      8'd125: val_o = 24'd8245948;
      8'd126: val_o = 24'd8293688;
      8'd127: val_o = 24'd8341241;
      8'd128: val_o = 24'd8388608;
      default: val_o = '0;
    endcase
  end

endmodule
