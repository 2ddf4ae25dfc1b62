package store

import (
	"os"
	"testing"

	"github.com/deskctl/deskctl/internal/pgtest"
)

// onPostgres makes openTestStore create PostgreSQL databases; it is set
// only while TestPostgres runs the behaviour tests again.
var onPostgres bool

// behaviour lists the tests that say what the store does, whichever
// database holds it. Every one runs on bbolt as a test of its own and on
// PostgreSQL under TestPostgres. Tests of the file itself (modes, locks,
// pages, migrations of old files, backups) are not in it.
var behaviour = []struct {
	name string
	fn   func(*testing.T)
}{
	{"UserAccessors", TestUserAccessors},
	{"DeleteUserTakesMembershipsAndGrants", TestDeleteUserTakesMembershipsAndGrants},
	{"GroupMemberOfIndexFollowsReplaceAndDelete", TestGroupMemberOfIndexFollowsReplaceAndDelete},
	{"ResourceIndexesFollowMembersAndParent", TestResourceIndexesFollowMembersAndParent},
	{"GrantsAndHolders", TestGrantsAndHolders},
	{"EachTicketFiltersNewestFirst", TestEachTicketFiltersNewestFirst},
	{"PutTicketMovesIndexEntries", TestPutTicketMovesIndexEntries},
	{"ImportedTicketIDs", TestImportedTicketIDs},
	{"ManyWritesInOneTransaction", TestManyWritesInOneTransaction},
	{"ApprovalTokenIndex", TestApprovalTokenIndex},
	{"Outbox", TestOutbox},
	{"SettingsAccessors", TestSettingsAccessors},
	{"CheckFindsStaleIndexEntries", TestCheckFindsStaleIndexEntries},
	{"CheckReportsEachIndexInconsistency", TestCheckReportsEachIndexInconsistency},
	{"TicketIndexMergeAgreesWithASet", TestTicketIndexMergeAgreesWithASet},
	{"AuditAppendAndFilter", TestAuditAppendAndFilter},
	{"VerifyAuditDetectsTampering", TestVerifyAuditDetectsTampering},
	{"VerifyAuditDetectsDeletedNewestRecord", TestVerifyAuditDetectsDeletedNewestRecord},
	{"AppendAuditAfterUndecodableLastRecordFails", TestAppendAuditAfterUndecodableLastRecordFails},
	{"CheckReportsValuesOutsideTheirSets", TestCheckReportsValuesOutsideTheirSets},
	{"EachTicketInScope", TestEachTicketInScope},
	{"ScopeIsDecidedFromKeys", TestScopeIsDecidedFromKeys},
	{"TicketsPer", TestTicketsPer},
	{"UserByOSLoginFollowsTheIndex", TestUserByOSLoginFollowsTheIndex},
	{"APITokensGoWithTheirUser", TestAPITokensGoWithTheirUser},
	{"DelegationsGoWithTheirUser", TestDelegationsGoWithTheirUser},
	{"LastDigestGoesWithItsUser", TestLastDigestGoesWithItsUser},
	{"ReadOnlyRefusesUpdate", TestReadOnlyRefusesUpdate},
	{"CursorsAgreeAfterReadingAhead", TestCursorsAgreeAfterReadingAhead},
	{"GroupsOfAfterReadingAhead", TestGroupsOfAfterReadingAhead},
}

func TestPostgres(t *testing.T) {
	pgtest.Server(t)
	onPostgres = true
	defer func() { onPostgres = false }()
	for _, b := range behaviour {
		t.Run(b.name, b.fn)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
