package cloudsim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Demo identity: accepted by a Sim built without Credentials and printed by
// the sim command.
const (
	DemoAK    = "HWSIMDEMOAK7Q2X9KLM4"
	DemoSK    = "dEm0sImSk4decomSimulatorOnlyNotASecret01"
	DemoToken = "MIIdemo-decom-cloudsim-iam-token"
	DemoUser  = "demo-operator"
)

// DemoProjects are the demo fleet's projects: "prod" first, then "staging".
var DemoProjects = []string{"0b5c8e3f2a1d4c6e9f7a8b0c1d2e3f4a", "7e6d5c4b3a2910f8e7d6c5b4a3928170"}

// DemoCredentials returns an AK/SK identity and a token identity, both for
// DemoUser over every DemoProjects project.
func DemoCredentials() []Credential {
	return []Credential{
		{AK: DemoAK, SK: DemoSK, User: DemoUser, Projects: append([]string(nil), DemoProjects...)},
		{Token: DemoToken, User: DemoUser, Projects: append([]string(nil), DemoProjects...)},
	}
}

// fleetEpoch anchors generated creation times, so the fleet does not depend
// on the clock.
var fleetEpoch = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)

func uuidFrom(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	a = a&^(0xf<<12) | 0x4<<12
	b = b&^(0x3<<62) | 0x2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func hexFrom(rng *rand.Rand) string { return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()) }

// uuid and hexID draw IDs from the simulator's seeded generator; s.mu held.
func (s *Sim) uuid() string  { return uuidFrom(s.rng) }
func (s *Sim) hexID() string { return hexFrom(s.rng) }

type weighted struct {
	v string
	w int
}

func pick(rng *rand.Rand, ws []weighted) string {
	total := 0
	for _, x := range ws {
		total += x.w
	}
	n := rng.IntN(total)
	for _, x := range ws {
		if n -= x.w; n < 0 {
			return x.v
		}
	}
	return ws[0].v
}

func pickS(rng *rand.Rand, ss []string) string { return ss[rng.IntN(len(ss))] }

var (
	dmsStatusMix = []weighted{
		{"RUNNING", 55}, {"CREATEFAILED", 12}, {"ERROR", 8}, {"CREATING", 5}, {"FROZEN", 4}, {"RESTARTING", 3},
		{"EXTENDING", 3}, {"EXTENDEDFAILED", 3}, {"CONFIGURING", 2}, {"ROLLBACKFAILED", 2}, {"FREEZING", 1},
		{"SHRINKING", 1}, {"VOLUMETYPECHANGING", 1},
	}
	cdcStateMix = []weighted{
		{"running", 45}, {"stopped", 18}, {"error", 12}, {"pending", 8}, {"stopping", 4},
		{"reinstalling", 3}, {"shutting-down", 5}, {"terminated", 5},
	}
	teams = []string{
		"orders",
		"payments",
		"billing",
		"inventory",
		"shipping",
		"crm",
		"notify",
		"search",
		"ledger",
		"fraud",
		"audit",
		"catalog",
		"pricing",
		"loyalty",
		"checkout",
		"risk",
	}
	mqPurposes = []string{"events", "outbox", "retry", "dlq", "stream", "jobs", "sync", "fanout", "cdc", "alerts"}
	bmsRoles   = []string{"db", "hpc", "gpu-train", "cache", "kafka", "etl", "web", "render", "oracle", "sap-hana"}
	appVerbs   = []string{
		"sync",
		"bridge",
		"connector",
		"gateway",
		"adapter",
		"feed",
		"export",
		"import",
		"hub",
		"relay",
	}
	systems = []string{"erp", "crm", "dw", "sap", "oms", "wms", "hr", "mes", "pos", "bi", "lims", "tms"}
	execMix = []weighted{
		{"SUCCESS", 45},
		{"RUNNING", 20},
		{"WAITING", 10},
		{"UNSTARTED", 12},
		{"ERROR", 8},
		{"CANCELLED", 5},
	}
)

// demoEnterpriseProject puts the finance teams' demo instances in their own
// enterprise project and the rest in the default one ("0").
func demoEnterpriseProject(team string) string {
	switch team {
	case "payments", "billing", "ledger":
		return "ep-finance"
	}
	return "0"
}

func envName(i int) string {
	switch i {
	case 0:
		return "prod"
	case 1:
		return "stg"
	}
	return fmt.Sprintf("env%d", i)
}

// buildDemoFleet fills st with the demo fleet, deterministically from seed.
// Only the delete timers of shutting-down and terminated CloudDC instances
// depend on now.
func buildDemoFleet(st *state, projects []string, seed int64, now time.Time) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xdec0))
	for i := range 100 {
		p := i % len(projects)
		d := &dmsInst{
			id: uuidFrom(rng), project: projects[p], rabbit: i >= 60,
			status: pick(
				rng,
				dmsStatusMix,
			), createdMS: fleetEpoch.Add(-time.Duration(rng.IntN(700*24)) * time.Hour).UnixMilli(),
			charging: 1, variant: uint8(rng.IntN(4)), storage: int32(100 * (1 + rng.IntN(6))),
			epid: "0", vpc: uuidFrom(rng), subnet: uuidFrom(rng), sg: uuidFrom(rng),
		}
		d.used = int32(rng.IntN(int(d.storage)))
		if rng.IntN(100) < 15 {
			d.charging = 0
		}
		kind := "mq"
		if d.rabbit {
			kind = "rabbit"
		}
		team := pickS(rng, teams)
		d.name = fmt.Sprintf("%s-%s-%s-%s-%02d", team, pickS(rng, mqPurposes), kind, envName(p), i)
		d.tags = []tag{{"owner", "platform"}, {"team", team}, {"env", envOf(d.name)}}
		d.epid = demoEnterpriseProject(team)
		st.addDMS(d)
	}
	buildROMA(st, rng, projects)
	for i := range 80 {
		p := i % len(projects)
		created := fleetEpoch.Add(-time.Duration(rng.IntN(500*24)) * time.Hour)
		c := &cdcInst{
			id: uuidFrom(rng), project: projects[p], serverID: uuidFrom(rng), state: pick(rng, cdcStateMix),
			created: created, updated: created.Add(time.Duration(1+rng.IntN(900)) * time.Hour), launched: true,
			image: uint8(rng.IntN(len(cdcImages))), vpc: uuidFrom(rng), subnet: uuidFrom(rng),
			ip: fmt.Sprintf("10.%d.%d.%d", 10+p, rng.IntN(256), 2+rng.IntN(250)),
		}
		c.name = fmt.Sprintf("bms-%s-%s-%02d", pickS(rng, bmsRoles), envName(p), i)
		c.tags = []tag{{"env", envOf(c.name)}}
		c.opState = "install-succeed"
		switch c.state {
		case "pending":
			c.opState, c.launched = "install-processing", false
		case "error":
			c.opState, c.errType, c.launched = "install-failed", "create_instance_error", false
		case "reinstalling":
			c.opState = "reinstall-processing"
		case "shutting-down":
			c.state, c.deleteAt = "stopped", now.Add(2*time.Minute)
		case "terminated":
			c.state, c.deleteAt = "stopped", now.Add(-time.Minute)
		}
		st.addCDC(c)
	}
}

// buildROMA adds 4 ROMA instances with about 150 apps and 300 tasks.
func buildROMA(st *state, rng *rand.Rand, projects []string) {
	names := []string{"roma-core", "roma-edge", "roma-integration", "roma-legacy"}
	for i, n := range names {
		p := (i / 2) % len(projects)
		r := &romaInst{
			id:      uuidFrom(rng),
			project: projects[p],
			name:    n + "-" + envName(p),
			status:  "RUNNING",
			epid:    "0",
			flavor:  uint8(i),
			created: fleetEpoch.Add(-time.Duration(200+rng.IntN(400)) * 24 * time.Hour),
		}
		st.addROMA(r)
		for a := range 35 + rng.IntN(10) {
			app := &romaApp{
				id:      hexFrom(rng),
				creator: pickS(rng, []string{"zhang.wei", "li.na", "wang.fang", "a.schmidt", "j.doe"}),
				created: r.created.Add(
					time.Duration(1+rng.IntN(4000)) * time.Hour,
				),
				owner:    rng.IntN(3) > 0,
				favorite: rng.IntN(5) == 0,
			}
			app.name = fmt.Sprintf("%s-%s-%s-%02d", pickS(rng, systems), pickS(rng, teams), pickS(rng, appVerbs), a)
			app.remark, app.key = "integration app for "+app.name, hexFrom(rng)
			r.addApp(app)
		}
		for t := range 70 + rng.IntN(10) {
			src, tgt := r.apps[rng.IntN(len(r.apps))], r.apps[rng.IntN(len(r.apps))]
			task := &romaTask{
				id:       hexFrom(rng),
				taskType: "TIMING",
				exec:     pick(rng, execMix),
				srcApp:   src.id,
				tgtApp:   tgt.id,
				status: int32(
					rng.IntN(2),
				),
				created: r.created.Add(time.Duration(1+rng.IntN(4000)) * time.Hour),
				tag:     pickS(rng, teams),
				epid:    r.epid,
			}
			if rng.IntN(3) == 0 {
				task.taskType = "REALTIME"
			}
			task.modifiedMS = task.created.Add(time.Duration(rng.IntN(2000)) * time.Hour).UnixMilli()
			task.name = fmt.Sprintf(
				"%s-%s-to-%s-%03d",
				pickS(rng, mqPurposes[:7]),
				pickS(rng, systems),
				pickS(rng, systems),
				t,
			)
			r.addTask(task)
		}
	}
}
