package commerce

import "testing"

func TestDepositCreditSplitsByLargestRemainderAndNeverGoesBelowZero(t *testing.T) {
	// ¥200 over ¥1 299 and ¥118: 18 334.51 → 18 335, 1 665.49 → 1 665.
	p := &Priced{Lines: []OrderLine{{Payable: 129900}, {Payable: 11800}, {Payable: 0, Gift: true}}, Payable: 141700}
	applied, capped := ApplyDepositCredit(p, 20000)
	if applied != 20000 || capped != 0 || p.Lines[0].DepositCredit != 18335 || p.Lines[1].DepositCredit != 1665 || p.Lines[2].DepositCredit != 0 {
		t.Fatalf("applied %d capped %d lines %+v", applied, capped, p.Lines)
	}
	if p.DepositCredit != 20000 || p.Payable != 121700 {
		t.Fatalf("totals: credit %d payable %d", p.DepositCredit, p.Payable)
	}

	// Lines worth ¥150 cannot take a ¥200 credit: capped at ¥150, reported.
	p = &Priced{Lines: []OrderLine{{Payable: 10001}, {Payable: 4999}}, Payable: 15000 + 1000}
	applied, capped = ApplyDepositCredit(p, 20000)
	if applied != 15000 || capped != 5000 || p.Lines[0].Payable != 0 || p.Lines[1].Payable != 0 || p.Payable != 1000 {
		t.Fatalf("capped credit: applied %d capped %d lines %+v payable %d", applied, capped, p.Lines, p.Payable)
	}

	// Three equal lines and 100 fen: ties go to the earlier line.
	p = &Priced{Lines: []OrderLine{{Payable: 1}, {Payable: 1}, {Payable: 1}}, Payable: 3}
	if applied, _ := ApplyDepositCredit(p, 2); applied != 2 || p.Lines[0].DepositCredit != 1 || p.Lines[1].DepositCredit != 1 || p.Lines[2].DepositCredit != 0 {
		t.Fatalf("ties: %+v", p.Lines)
	}
}
