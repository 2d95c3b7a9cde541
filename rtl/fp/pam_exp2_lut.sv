// pam_exp2_lut: EXP2_LUT[k] = round(2^(k/128) * 2^23), knots of the piecewise-linear 2^f used by pam_fp32_exp.
// GENERATED TABLE (do not edit by hand): 129 entries, index 0..128; any other
// index returns 0. Must equal the Rust golden model table in src/golden/fp.rs
// (checked by a unit test there).
// Latency: combinational. Special values: none (pure table).

module pam_exp2_lut (
  input  logic [7:0]  idx_i,
  output logic [24:0] val_o
);

  always_comb begin
    case (idx_i)
      8'd0: val_o = 25'd8388608;
      8'd1: val_o = 25'd8434157;
      8'd2: val_o = 25'd8479954;
      8'd3: val_o = 25'd8525999;
      8'd4: val_o = 25'd8572295;
      8'd5: val_o = 25'd8618841;
      8'd6: val_o = 25'd8665641;
      8'd7: val_o = 25'd8712694;
      8'd8: val_o = 25'd8760003;
      8'd9: val_o = 25'd8807569;
      8'd10: val_o = 25'd8855394;
      8'd11: val_o = 25'd8903477;
      8'd12: val_o = 25'd8951823;
      8'd13: val_o = 25'd9000430;
      8'd14: val_o = 25'd9049301;
      8'd15: val_o = 25'd9098438;
      8'd16: val_o = 25'd9147842;
      8'd17: val_o = 25'd9197514;
      8'd18: val_o = 25'd9247455;
      8'd19: val_o = 25'd9297668;
      8'd20: val_o = 25'd9348154;
      8'd21: val_o = 25'd9398913;
      8'd22: val_o = 25'd9449948;
      8'd23: val_o = 25'd9501261;
      8'd24: val_o = 25'd9552851;
      8'd25: val_o = 25'd9604722;
      8'd26: val_o = 25'd9656875;
      8'd27: val_o = 25'd9709311;
      8'd28: val_o = 25'd9762032;
      8'd29: val_o = 25'd9815039;
      8'd30: val_o = 25'd9868333;
      8'd31: val_o = 25'd9921917;
      8'd32: val_o = 25'd9975792;
      8'd33: val_o = 25'd10029960;
      8'd34: val_o = 25'd10084422;
      8'd35: val_o = 25'd10139179;
      8'd36: val_o = 25'd10194234;
      8'd37: val_o = 25'd10249587;
      8'd38: val_o = 25'd10305242;
      8'd39: val_o = 25'd10361198;
      8'd40: val_o = 25'd10417458;
      8'd41: val_o = 25'd10474024;
      8'd42: val_o = 25'd10530897;
      8'd43: val_o = 25'd10588079;
      8'd44: val_o = 25'd10645571;
      8'd45: val_o = 25'd10703375;
      8'd46: val_o = 25'd10761494;
      8'd47: val_o = 25'd10819928;
      8'd48: val_o = 25'd10878679;
      8'd49: val_o = 25'd10937749;
      8'd50: val_o = 25'd10997140;
      8'd51: val_o = 25'd11056853;
      8'd52: val_o = 25'd11116891;
      8'd53: val_o = 25'd11177254;
      8'd54: val_o = 25'd11237946;
      8'd55: val_o = 25'd11298967;
      8'd56: val_o = 25'd11360319;
      8'd57: val_o = 25'd11422004;
      8'd58: val_o = 25'd11484025;
      8'd59: val_o = 25'd11546382;
      8'd60: val_o = 25'd11609078;
      8'd61: val_o = 25'd11672114;
      8'd62: val_o = 25'd11735492;
      8'd63: val_o = 25'd11799215;
      8'd64: val_o = 25'd11863283;
      8'd65: val_o = 25'd11927700;
      8'd66: val_o = 25'd11992466;
      8'd67: val_o = 25'd12057584;
      8'd68: val_o = 25'd12123055;
      8'd69: val_o = 25'd12188882;
      8'd70: val_o = 25'd12255067;
      8'd71: val_o = 25'd12321610;
      8'd72: val_o = 25'd12388516;
      8'd73: val_o = 25'd12455784;
      8'd74: val_o = 25'd12523418;
      8'd75: val_o = 25'd12591419;
      8'd76: val_o = 25'd12659789;
      8'd77: val_o = 25'd12728530;
      8'd78: val_o = 25'd12797645;
      8'd79: val_o = 25'd12867135;
      8'd80: val_o = 25'd12937002;
      8'd81: val_o = 25'd13007249;
      8'd82: val_o = 25'd13077877;
      8'd83: val_o = 25'd13148888;
      8'd84: val_o = 25'd13220286;
      8'd85: val_o = 25'd13292070;
      8'd86: val_o = 25'd13364245;
      8'd87: val_o = 25'd13436812;
      8'd88: val_o = 25'd13509772;
      8'd89: val_o = 25'd13583129;
      8'd90: val_o = 25'd13656884;
      8'd91: val_o = 25'd13731039;
      8'd92: val_o = 25'd13805598;
      8'd93: val_o = 25'd13880561;
      8'd94: val_o = 25'd13955931;
      8'd95: val_o = 25'd14031710;
      8'd96: val_o = 25'd14107901;
      8'd97: val_o = 25'd14184505;
      8'd98: val_o = 25'd14261526;
      8'd99: val_o = 25'd14338964;
      8'd100: val_o = 25'd14416824;
      8'd101: val_o = 25'd14495106;
      8'd102: val_o = 25'd14573813;
      8'd103: val_o = 25'd14652947;
      8'd104: val_o = 25'd14732511;
      8'd105: val_o = 25'd14812507;
      8'd106: val_o = 25'd14892937;
      8'd107: val_o = 25'd14973805;
      8'd108: val_o = 25'd15055111;
      8'd109: val_o = 25'd15136859;
      8'd110: val_o = 25'd15219050;
      8'd111: val_o = 25'd15301688;
      8'd112: val_o = 25'd15384775;
      8'd113: val_o = 25'd15468313;
      8'd114: val_o = 25'd15552304;
      8'd115: val_o = 25'd15636752;
      8'd116: val_o = 25'd15721658;
      8'd117: val_o = 25'd15807025;
      8'd118: val_o = 25'd15892855;
      8'd119: val_o = 25'd15979152;
      8'd120: val_o = 25'd16065917;
      8'd121: val_o = 25'd16153153;
      8'd122: val_o = 25'd16240863;
      8'd123: val_o = 25'd16329050;
      8'd124: val_o = 25'd16417715;
      8'd125: val_o = 25'd16506861;
      8'd126: val_o = 25'd16596492;
      8'd127: val_o = 25'd16686609;
      8'd128: val_o = 25'd16777216;
      default: val_o = '0;
    endcase
  end

endmodule
