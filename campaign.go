package emailsched

import "github.com/emailsched/emailsched/datecalc"

// CampaignType describes a kind of campaign.
type CampaignType struct {
	// Name is the type's identifier; its emails have type
	// "campaign_<Name>".
	Name                    string
	RespectExclusionWindows bool
	EnableFollowUps         bool
	// DaysBeforeEvent: the email goes out this many days before the
	// trigger date (negative: after).
	DaysBeforeEvent   int
	TargetAllContacts bool
	Priority          int
	Active            bool
}

// CampaignInstance is one run of a campaign type.
type CampaignInstance struct {
	ID            int64
	Type          string // the CampaignType's Name
	Name          string
	EmailTemplate string
	SMSTemplate   string
	// Start and End bound the days the instance is active, both included;
	// a zero date leaves that side open.
	Start, End datecalc.Date
	// Metadata is the instance's JSON metadata, "" for none.
	Metadata string
	// TargetStates and TargetCarriers restrict the instance when not
	// empty.
	TargetStates   []State
	TargetCarriers []string
}

// ActiveOn reports whether the instance is active on day d.
func (ci *CampaignInstance) ActiveOn(d datecalc.Date) bool {
	return (ci.Start.IsZero() || !d.Before(ci.Start)) && (ci.End.IsZero() || !d.After(ci.End))
}

// Campaigns is the campaign catalogue of an organisation.
type Campaigns struct {
	Types     []CampaignType
	Instances []CampaignInstance
}
