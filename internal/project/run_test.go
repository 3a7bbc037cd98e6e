package project

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// runSum is how a function runs, in comparable form.
type runSum struct {
	FunctionName     string
	Timeout          time.Duration
	MemorySize       int
	EphemeralStorage int
	Routes           []string // "GET /items/{id} REST 1.0 Prod @line"
	URL              string   // the auth type
}

func runOf(t *testing.T, cfg *Config, name string) runSum {
	t.Helper()
	f, ok := cfg.Function(name)
	if !ok {
		t.Fatalf("no function %s in %v", name, cfg.Names())
	}
	s := runSum{FunctionName: f.FunctionName, Timeout: f.Timeout, MemorySize: f.MemorySize, EphemeralStorage: f.EphemeralStorage}
	for _, r := range f.Routes {
		s.Routes = append(s.Routes, fmt.Sprintf("%s %s %s %s @%d", r, r.API, r.PayloadFormat, r.Stage, r.Pos.Line))
	}
	if f.URL != nil {
		s.URL = f.URL.AuthType
	}
	return s
}

func TestSAMRun(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"template.yaml": samHead + `Parameters:
  Stage:
    Type: String
    Default: v1
  Memory:
    Type: Number
    Default: 512
  Timeout:
    Type: Number
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/
    Timeout: 10
    MemorySize: !Ref Memory
    EphemeralStorage:
      Size: 1024
    FunctionUrlConfig:
      AuthType: AWS_IAM
Resources:
  Items:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.items
      Timeout: 30
      FunctionUrlConfig:
        AuthType: NONE
      Events:
        GetItem:
          Type: HttpApi
          Properties:
            Path: /items/{id}
            Method: get
        ListItems:
          Type: HttpApi
          Properties:
            Path: /items
            Method: GET
            PayloadFormatVersion: "1.0"
        Default:
          Type: HttpApi
        OnApi:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /on/{proxy+}
            Method: x-amazon-apigateway-any-method
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
  Rest:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${Stage}-rest"
      Handler: app.rest
      Timeout: !Ref Timeout
      MemorySize: 2048
      EphemeralStorage:
        Size: 4096
      Events:
        Hello:
          Type: Api
          Properties:
            Path: /hello
            Method: any
        Staged:
          Type: Api
          Properties:
            RestApiId: !Ref MyApi
            Path: /v/{proxy+}
            Method: POST
  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: live
`,
		"src/app.py": "def items(e, c): pass\ndef rest(e, c): pass\n",
	})
	cfg := load(t, dir)
	want := map[string]runSum{
		"Items": {Timeout: 30 * time.Second, MemorySize: 512, EphemeralStorage: 1024, URL: "NONE", Routes: []string{
			"GET /items/{id} HTTP 2.0 $default @31", "GET /items HTTP 1.0 $default @36", "$default HTTP 2.0 $default @42",
			"ANY /on/{proxy+} HTTP 2.0 live @44"}},
		// Timeout: !Ref of a parameter without a Default is only known at
		// deploy time: Globals' does not apply, Lambda's default does.
		"Rest": {FunctionName: "v1-rest", Timeout: 3 * time.Second, MemorySize: 2048, EphemeralStorage: 4096, URL: "AWS_IAM", Routes: []string{
			"ANY /hello REST 1.0 Prod @64", "POST /v/{proxy+} REST 1.0 v1 @69"}},
	}
	for name, w := range want {
		if diff := cmp.Diff(w, runOf(t, cfg, name)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	wantNote(t, cfg, "function Rest: Timeout !Ref Timeout is resolved at deploy time: lambdapack invoke and serve use the default")
	if f, _ := cfg.Function("Items"); f.URL.Pos.Line != 28 {
		t.Errorf("the function URL is at %s, want line 28", f.URL.Pos)
	}

	// Without any setting: Lambda's defaults, no route, no URL.
	cfg = load(t, writeTree(t, map[string]string{
		"template.yaml": samHead + "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.13\n      Handler: app.handler\n",
		"app.py":        "def handler(e, c): pass\n",
	}))
	if diff := cmp.Diff(runSum{Timeout: 3 * time.Second, MemorySize: 128, EphemeralStorage: 512}, runOf(t, cfg, "Fn")); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// loadErrorCase is a project that does not load, and what its error says.
type loadErrorCase struct {
	name  string
	files map[string]string
	want  []string
}

// loadErrors checks that each project fails to load with an error that
// says each of want once and names a file and line.
func loadErrors(t *testing.T, cases []loadErrorCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := loadErr(t, c.files)
			wantErr(t, err, c.want...)
			if _, ok := Location(err); !ok {
				t.Errorf("no file and line in %v", err)
			}
			for _, w := range c.want {
				if n := strings.Count(err.Error(), w); n > 1 {
					t.Errorf("%q said %d times:\n%v", w, n, err)
				}
			}
		})
	}
}

func TestSAMRunErrors(t *testing.T) {
	fn := func(props string) map[string]string {
		return map[string]string{
			"template.yaml": samHead + "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n      Handler: app.handler\n" + props,
			"app.py":        "def handler(e, c): pass\n",
		}
	}
	event := func(typ, props string) map[string]string {
		return fn("      Events:\n        Ev:\n          Type: " + typ + "\n          Properties:\n" + props)
	}
	loadErrors(t, []loadErrorCase{
		{"timeout 0", fn("      Timeout: 0\n"), []string{"template.yaml:9: function Fn: Timeout 0 is out of range", "Lambda takes 1 to 900 seconds"}},
		{"timeout 901", fn("      Timeout: 901\n"), []string{"template.yaml:9:", "Timeout 901 is out of range"}},
		{"timeout text", fn("      Timeout: ten\n"), []string{"template.yaml:9:", `Timeout "ten" is not a whole number`, "write a whole number of seconds"}},
		{"timeout fraction", fn("      Timeout: 2.5\n"), []string{"template.yaml:9:", `Timeout "2.5" is not a whole number`}},
		{"globals", map[string]string{
			"template.yaml": samHead + "Globals:\n  Function:\n    Runtime: python3.12\n    Handler: app.handler\n    Timeout: 0\n    FunctionUrlConfig:\n      AuthType: none\n" +
				"Resources:\n  A:\n    Type: AWS::Serverless::Function\n  B:\n    Type: AWS::Serverless::Function\n",
			"app.py": "def handler(e, c): pass\n",
		}, []string{"template.yaml:7: Globals.Function.Timeout 0 is out of range", `template.yaml:9: Globals.Function.FunctionUrlConfig.AuthType "none" is not NONE or AWS_IAM`}},
		{"memory", fn("      MemorySize: 64\n"), []string{"template.yaml:9:", "MemorySize 64 is out of range", "128 to 10240 MB"}},
		{"storage", fn("      EphemeralStorage:\n        Size: 100\n"), []string{"template.yaml:10:", "EphemeralStorage.Size 100 is out of range", "512 to 10240 MB"}},
		{"url without auth", fn("      FunctionUrlConfig:\n        Cors: {}\n"), []string{"template.yaml:9:", "function Fn: FunctionUrlConfig.AuthType is missing", "AuthType: NONE"}},
		{"url auth", fn("      FunctionUrlConfig:\n        AuthType: OPEN\n"), []string{"template.yaml:10:", `AuthType "OPEN" is not NONE or AWS_IAM`}},
		{"api without path", event("Api", "            Method: get\n"), []string{"template.yaml:10:", "function Fn: event Ev (Api) has no Path", "add Path"}},
		{"api without method", event("Api", "            Path: /x\n"), []string{"template.yaml:10:", "event Ev (Api) has no Method"}},
		{"method", event("HttpApi", "            Path: /x\n            Method: FETCH\n"), []string{"template.yaml:14:", `Method "FETCH" is not an HTTP method`, "GET, POST"}},
		{"path", event("HttpApi", "            Path: items\n            Method: get\n"), []string{"template.yaml:13:", `Path "items" does not start with /`}},
		{"payload", event("HttpApi", "            PayloadFormatVersion: '3.0'\n"), []string{"template.yaml:13:", `PayloadFormatVersion "3.0" is not 1.0 or 2.0`}},
	})
}

func TestServerlessRun(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"serverless.yml": `service: shop
provider:
  name: aws
  runtime: python3.12
  stage: ${opt:stage, 'dev'}
  timeout: ${self:custom.timeout}
  ephemeralStorageSize: 2048
  environment:
    SERVICE: shop
  httpApi:
    payload: '2.0'
custom:
  timeout: 12
functions:
  api:
    handler: app.handler
    memorySize: 512
    events:
      - http:
          path: items/{id}
          method: get
      - http: POST items
      - http:
          path: /any
          method: any
      - httpApi: 'GET /v2/items'
      - httpApi:
          method: '*'
          path: /v2/{proxy+}
      - httpApi: '*'
      - sqs: arn:aws:sqs:us-east-1:123456789012:q
      - ${file(./more-events.yml)}
  cron:
    handler: app.cron
    timeout: 60
    url: true
  secure:
    name: ${self:service}-secure
    handler: app.cron
    memorySize: ${ssm:/shop/memory}
    url:
      authorizer: aws_iam
`,
		"more-events.yml": "httpApi:\n  method: delete\n  path: /v2/items/{id}\n",
		"app.py":          "def handler(e, c): pass\ndef cron(e, c): pass\n",
	})
	cfg, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow, Stage: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]runSum{
		"api": {FunctionName: "shop-qa-api", Timeout: 12 * time.Second, MemorySize: 512, EphemeralStorage: 2048, Routes: []string{
			"GET /items/{id} REST 1.0 qa @20", "POST /items REST 1.0 qa @22", "ANY /any REST 1.0 qa @24",
			"GET /v2/items HTTP 2.0 $default @26", "ANY /v2/{proxy+} HTTP 2.0 $default @28", "$default HTTP 2.0 $default @30",
			"DELETE /v2/items/{id} HTTP 2.0 $default @2"}},
		"cron": {FunctionName: "shop-qa-cron", Timeout: 60 * time.Second, MemorySize: 1024, EphemeralStorage: 2048, URL: "NONE"},
		// ${ssm:} is only known at deploy time: noted, the framework's
		// default applies.
		"secure": {FunctionName: "shop-secure", Timeout: 12 * time.Second, MemorySize: 1024, EphemeralStorage: 2048, URL: "AWS_IAM"},
	}
	for name, w := range want {
		if diff := cmp.Diff(w, runOf(t, cfg, name)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	wantNote(t, cfg, "function secure: functions.secure.memorySize is not resolved here", "lambdapack invoke and serve use the default")
	if f, _ := cfg.Function("api"); !strings.HasSuffix(f.Routes[6].Pos.File, "more-events.yml") {
		t.Errorf("a route from ${file()} is at %s, want more-events.yml", f.Routes[6].Pos)
	}

	// provider.httpApi.payload '1.0' makes every httpApi event 1.0; the
	// framework's defaults apply without settings.
	cfg = load(t, writeTree(t, map[string]string{
		"serverless.yml": "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n  httpApi:\n    payload: '1.0'\nfunctions:\n  f:\n    handler: app.handler\n    events:\n      - httpApi: 'GET /x'\n",
		"app.py":         "def handler(e, c): pass\n",
	}))
	if diff := cmp.Diff(runSum{FunctionName: "s-dev-f", Timeout: 6 * time.Second, MemorySize: 1024, EphemeralStorage: 512, Routes: []string{"GET /x HTTP 1.0 $default @11"}}, runOf(t, cfg, "f")); diff != "" {
		t.Errorf("payload 1.0 (-want +got):\n%s", diff)
	}
}

func TestServerlessRunErrors(t *testing.T) {
	sls := func(provider, fn string) map[string]string {
		return map[string]string{
			"serverless.yml": "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n" + provider + "functions:\n  f:\n    handler: app.handler\n" + fn,
			"app.py":         "def handler(e, c): pass\n",
		}
	}
	loadErrors(t, []loadErrorCase{
		{"provider timeout", sls("  timeout: 1000\n", "  g:\n    handler: app.handler\n"), []string{"serverless.yml:5: provider.timeout 1000 is out of range (Lambda takes 1 to 900 seconds)"}},
		{"memory", sls("", "    memorySize: big\n"), []string{"serverless.yml:8:", `functions.f.memorySize "big" is not a whole number`}},
		{"storage", sls("", "    ephemeralStorageSize: 20000\n"), []string{"serverless.yml:8:", "functions.f.ephemeralStorageSize 20000 is out of range"}},
		{"http without path", sls("", "    events:\n      - http:\n          method: get\n"), []string{"serverless.yml:10:", "functions.f.events.http has no path"}},
		{"http without method", sls("", "    events:\n      - http: /items\n"), []string{"serverless.yml:9:", "functions.f.events.http has no method", `"GET /items"`}},
		{"httpApi method", sls("", "    events:\n      - httpApi: 'FETCH /x'\n"), []string{"serverless.yml:9:", `functions.f.events.httpApi: method "FETCH" is not an HTTP method`}},
		{"payload", sls("  httpApi:\n    payload: '3.0'\n", ""), []string{"serverless.yml:6:", `provider.httpApi.payload "3.0" is not 1.0 or 2.0`}},
		{"undefined variable", sls("", "    events:\n      - http: ${self:custom.route}\n"), []string{"serverless.yml:9:", "functions.f.events.http: self has no custom.route"}},
	})
}

func TestTOMLRun(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"lambdapack.toml": `runtime = "python3.12"
timeout = 20
memory = 256

[functions.api]
handler = "app.handler"
memory = 1769

[functions.worker]
handler = "app.handler"
timeout = 900
`,
		"app.py": "def handler(e, c): pass\n",
	}))
	for name, w := range map[string]runSum{
		"api":    {Timeout: 20 * time.Second, MemorySize: 1769, EphemeralStorage: 512},
		"worker": {Timeout: 900 * time.Second, MemorySize: 256, EphemeralStorage: 512},
	} {
		if diff := cmp.Diff(w, runOf(t, cfg, name)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	cfg = load(t, writeTree(t, map[string]string{
		"pyproject.toml": "[project]\nname = \"x\"\n\n[tool.lambdapack.functions.api]\nhandler = \"app.handler\"\nruntime = \"python3.12\"\n",
		"app.py":         "def handler(e, c): pass\n",
	}))
	if diff := cmp.Diff(runSum{Timeout: 3 * time.Second, MemorySize: 128, EphemeralStorage: 512}, runOf(t, cfg, "api")); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}

	for _, c := range []struct {
		name, toml string
		want       []string
	}{
		{"string", "timeout = \"10\"\n", []string{"lambdapack.toml:2:", "timeout must be a whole number, not 10"}},
		{"float", "[functions.api]\nhandler = \"app.handler\"\ntimeout = 2.5\n", []string{"lambdapack.toml:4:", "functions.api.timeout must be a whole number, not 2.5"}},
		{"range", "[functions.api]\nhandler = \"app.handler\"\nmemory = 64\n", []string{"lambdapack.toml:4:", "functions.api.memory 64 is out of range", "128 to 10240 MB"}},
		{"typo", "[functions.api]\nhandler = \"app.handler\"\nmemory-size = 256\n", []string{"lambdapack.toml:4:", `unknown key "memory-size"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			toml := "runtime = \"python3.12\"\n" + c.toml
			if !strings.Contains(toml, "[functions.api]") {
				toml += "[functions.api]\nhandler = \"app.handler\"\n"
			}
			err := loadErr(t, map[string]string{"lambdapack.toml": toml, "app.py": "def handler(e, c): pass\n"})
			wantErr(t, err, c.want...)
		})
	}
}

// Without --stage, ${sls:stage} is provider.stage, in the environment as in
// the function's name and its REST routes' stage (it read "dev" when
// resolved inside a variable).
func TestServerlessStageFromProvider(t *testing.T) {
	for _, c := range []struct{ stage, opt, want string }{
		{"prod", "", "prod"},
		{"${opt:stage, 'beta'}", "", "beta"},
		{"${opt:stage, 'beta'}", "qa", "qa"},
		{"${sls:stage}", "", "dev"}, // a cycle: the default
	} {
		dir := writeTree(t, map[string]string{
			"serverless.yml": "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n  stage: " + c.stage + "\n  environment:\n    STAGE: ${sls:stage}\n    OPT: ${opt:stage, 'none'}\n" +
				"functions:\n  f:\n    handler: app.handler\n    events:\n      - http: GET x\n",
			"app.py": "def handler(e, c): pass\n",
		})
		cfg, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow, Stage: c.opt})
		if err != nil {
			t.Fatalf("stage %s: %v", c.stage, err)
		}
		f, _ := cfg.Function("f")
		opt := c.opt
		if opt == "" {
			opt = "none"
		}
		want := fmt.Sprintf("[OPT=%s STAGE=%s] s-%s-f %s", opt, c.want, c.want, c.want)
		if got := fmt.Sprintf("%v %s %s", summarize(*f).Env, f.FunctionName, f.Routes[0].Stage); got != want {
			t.Errorf("provider.stage %s, --stage %q: %s, want %s", c.stage, c.opt, got, want)
		}
	}
}
