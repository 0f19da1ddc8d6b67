package matching

import (
	"time"

	"github.com/capmatch/capmatch/models"
)

// Snapshot is one ranked list as a cache shared by several processes keeps it, so that a
// replica can serve a list another one ranked: whose list it is (Owner, a need's id when ByNeed,
// else an offer's), the exact top len(Items) best first, Complete as in CachedList, and what it is
// current for: the change stamp it reflects, the day and the weights version it was scored with,
// and the scoring model (ModelVersion) that ranked it. The cache's adapter decides the bytes; the
// application decides whether a snapshot is current.
type Snapshot struct {
	Owner          string
	ByNeed         bool
	Stamp          int64
	Day            models.Date
	WeightsVersion int64
	ComputedAt     time.Time
	Items          []Match
	Complete       bool
	Model          int
}
