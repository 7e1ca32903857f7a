using Triage.Workers.Ownership;

namespace Triage.Tests.Unit;

public sealed class OwnershipTests
{
    // ---- CodeOwners --------------------------------------------------------------------------------------

    [Fact]
    public void The_last_matching_rule_wins()
    {
        var owners = CodeOwners.Parse("""
            *                 @acme/everyone
            *.java            @acme/java
            /src/payments/    @acme/payments
            """);

        Assert.Equal(["@acme/payments"], owners.OwnersOf("src/payments/RefundService.java"));
        Assert.Equal(["@acme/java"], owners.OwnersOf("src/orders/Order.java"));
        Assert.Equal(["@acme/everyone"], owners.OwnersOf("README.md"));
    }

    [Fact]
    public void An_earlier_rule_does_not_win_over_a_later_broader_one()
    {
        var owners = CodeOwners.Parse("""
            /src/payments/    @acme/payments
            *.java            @acme/java
            """);

        Assert.Equal(["@acme/java"], owners.OwnersOf("src/payments/RefundService.java"));
        Assert.Equal(["@acme/payments"], owners.OwnersOf("src/payments/schema.sql"));
    }

    [Fact]
    public void No_matching_rule_means_no_owners()
    {
        var owners = CodeOwners.Parse("/docs/ @acme/docs");

        Assert.Empty(owners.OwnersOf("src/app.py"));
        Assert.Empty(CodeOwners.Parse(string.Empty).OwnersOf("src/app.py"));
    }

    [Theory]
    [InlineData("/build/logs/", "build/logs/a.log", true)]
    [InlineData("/build/logs/", "build/logs/deep/a.log", true)]
    [InlineData("/build/logs/", "x/build/logs/a.log", false)]
    [InlineData("/build/logs", "build/logs/a.log", true)]
    [InlineData("/build/logs", "build/logs", true)]
    [InlineData("/build/logs", "build/logsx/a.log", false)]
    [InlineData("build/logs", "x/build/logs/a.log", false)]
    [InlineData("/docs", "docs/a.md", true)]
    [InlineData("/docs", "src/docs/a.md", false)]
    [InlineData("docs", "docs/a.md", true)]
    [InlineData("docs", "src/docs/a.md", true)]
    [InlineData("docs", "src/docs", true)]
    [InlineData("docs", "src/docsx/a.md", false)]
    [InlineData("*.js", "app.js", true)]
    [InlineData("*.js", "web/static/app.js", true)]
    [InlineData("*.js", "web/static/app.jsx", false)]
    [InlineData("/*.js", "app.js", true)]
    [InlineData("/*.js", "web/app.js", false)]
    public void Anchored_patterns_match_from_the_root_and_unanchored_ones_at_any_depth(string pattern, string path, bool matches)
    {
        AssertMatch(pattern, path, matches);
    }

    [Theory]
    [InlineData("docs/*", "docs/getting-started.md", true)]
    [InlineData("docs/*", "docs/build-app/troubleshooting.md", false)]
    [InlineData("src/*.ts", "src/app.ts", true)]
    [InlineData("src/*.ts", "src/lib/app.ts", false)]
    [InlineData("docs/**", "docs/build-app/troubleshooting.md", true)]
    [InlineData("docs/**", "docs", false)]
    [InlineData("**/logs", "logs/a.log", true)]
    [InlineData("**/logs", "deeply/nested/logs/a.log", true)]
    [InlineData("src/**/test/", "src/test/a.py", true)]
    [InlineData("src/**/test/", "src/a/b/test/c/a.py", true)]
    [InlineData("src/**/test/", "lib/test/a.py", false)]
    [InlineData("src/**/*.sql", "src/db/migrations/001.sql", true)]
    [InlineData("src/**/*.sql", "src/001.sql", true)]
    [InlineData("f?o.txt", "foo.txt", true)]
    [InlineData("f?o.txt", "fo.txt", false)]
    [InlineData("f?o.txt", "f/o.txt", false)]
    [InlineData(@"f\*o.txt", "f*o.txt", true)]
    [InlineData(@"f\*o.txt", "foo.txt", false)]
    [InlineData("a+b(1).txt", "a+b(1).txt", true)]
    [InlineData("a+b(1).txt", "aab(1).txt", false)]
    public void A_single_star_stays_within_a_directory_and_a_double_star_crosses_directories(string pattern, string path, bool matches)
    {
        AssertMatch(pattern, path, matches);
    }

    [Theory]
    [InlineData("apps/", "apps/web/index.ts", true)]
    [InlineData("apps/", "services/apps/web/index.ts", true)]
    [InlineData("apps/", "apps", false)]
    [InlineData("/apps/", "services/apps/index.ts", false)]
    [InlineData("src/payments/", "src/payments/Refund.cs", true)]
    [InlineData("src/payments/", "lib/src/payments/Refund.cs", false)]
    public void A_directory_rule_owns_everything_under_the_directory(string pattern, string path, bool matches)
    {
        AssertMatch(pattern, path, matches);
    }

    [Fact]
    public void A_rule_without_owners_unowns_what_an_earlier_rule_owned()
    {
        var owners = CodeOwners.Parse("""
            /apps/            @octocat
            /apps/github
            """);

        Assert.Empty(owners.OwnersOf("apps/github/main.go"));
        Assert.Equal(["@octocat"], owners.OwnersOf("apps/web/main.go"));
    }

    [Fact]
    public void Comments_blank_lines_and_gitlab_section_headers_are_ignored_but_the_rules_in_sections_apply()
    {
        var owners = CodeOwners.Parse("""
            # Code owners of the payments service

            * @acme/everyone   # the default

            [Payments]
            /src/payments/ @acme/payments

            ^[Docs][2] @acme/docs-lead
            *.md @acme/docs

            [Section with spaces]
            /ops/ @acme/ops
              # an indented comment
            """);

        Assert.Equal(["@acme/payments"], owners.OwnersOf("src/payments/Refund.cs"));
        Assert.Equal(["@acme/docs"], owners.OwnersOf("src/payments/README.md"));
        Assert.Equal(["@acme/ops"], owners.OwnersOf("ops/deploy.yaml"));
        Assert.Equal(["@acme/everyone"], owners.OwnersOf("build.gradle"));
    }

    [Fact]
    public void A_pattern_that_starts_with_a_bracket_is_a_rule_not_a_section()
    {
        var owners = CodeOwners.Parse("[slug].tsx @acme/web");

        Assert.Equal(["@acme/web"], owners.OwnersOf("app/blog/[slug].tsx"));
    }

    [Fact]
    public void Users_teams_nested_groups_and_emails_are_owners_in_order_and_once()
    {
        var owners = CodeOwners.Parse("*.go @alice @acme/backend alice@example.com @gitlab-org/sub.group/team @Alice");

        Assert.Equal(["@alice", "@acme/backend", "alice@example.com", "@gitlab-org/sub.group/team"], owners.OwnersOf("cmd/main.go"));
    }

    [Fact]
    public void Malformed_lines_are_skipped_without_losing_the_others()
    {
        var owners = CodeOwners.Parse("""
            *           @acme/everyone
            *.py        alice
            *.rb        @acme/ruby not-an-owner
            *.go        @acme/go
            !*.txt      @acme/negation-is-not-supported
            ***         @acme/invalid
            /           @acme/root
            """);

        Assert.Equal(["@acme/everyone"], owners.OwnersOf("app/x.py"));
        Assert.Equal(["@acme/everyone"], owners.OwnersOf("lib/x.rb"));
        Assert.Equal(["@acme/go"], owners.OwnersOf("pkg/x.go"));
        Assert.Equal(["@acme/everyone"], owners.OwnersOf("a.txt"));
    }

    [Fact]
    public void Paths_with_a_leading_dot_slash_slash_or_backslashes_are_understood()
    {
        var owners = CodeOwners.Parse("/src/ @acme/src");

        Assert.Equal(["@acme/src"], owners.OwnersOf("./src/app.py"));
        Assert.Equal(["@acme/src"], owners.OwnersOf("/src/app.py"));
        Assert.Equal(["@acme/src"], owners.OwnersOf(@"src\app.py"));
        Assert.Empty(owners.OwnersOf(string.Empty));
    }

    [Fact]
    public void Paths_are_case_sensitive_as_on_github()
    {
        var owners = CodeOwners.Parse("/Docs/ @acme/docs");

        Assert.Empty(owners.OwnersOf("docs/a.md"));
    }

    [Fact]
    public void Escaped_spaces_belong_to_the_pattern()
    {
        var owners = CodeOwners.Parse(@"/My\ Documents/ @acme/docs");

        Assert.Equal(["@acme/docs"], owners.OwnersOf("My Documents/a.md"));
    }

    [Fact]
    public void From_paths_takes_prefixes_and_globs_and_lets_the_more_specific_prefix_win()
    {
        var owners = CodeOwners.FromPaths(new Dictionary<string, string>
        {
            ["src/payments/refunds/"] = "@acme/refunds",
            ["src/"] = "@acme/platform",
            ["src/payments/"] = "@acme/payments",
            ["**/*.sql"] = "@acme/dba, alice@example.com",
            ["broken/"] = "not an owner",
            ["./docs/"] = "@acme/docs",
        });

        Assert.Equal(["@acme/refunds"], owners.OwnersOf("src/payments/refunds/Refund.java"));
        Assert.Equal(["@acme/payments"], owners.OwnersOf("src/payments/Invoice.java"));
        Assert.Equal(["@acme/platform"], owners.OwnersOf("src/orders/Order.java"));
        Assert.Equal(["@acme/dba", "alice@example.com"], owners.OwnersOf("db/001.sql"));
        Assert.Empty(owners.OwnersOf("broken/x.py"));
        Assert.Equal(["@acme/docs"], owners.OwnersOf("docs/index.md"));
    }

    [Fact]
    public void Then_puts_the_later_rules_last_so_they_win_where_both_match()
    {
        var file = CodeOwners.Parse("""
            *                @acme/everyone
            /src/payments/   @acme/payments
            """);
        var config = CodeOwners.FromPaths(new Dictionary<string, string> { ["src/payments/refunds/"] = "@acme/refunds" });

        var combined = file.Then(config);
        Assert.Equal(["@acme/refunds"], combined.OwnersOf("src/payments/refunds/R.java"));
        Assert.Equal(["@acme/payments"], combined.OwnersOf("src/payments/I.java"));
        Assert.Equal(["@acme/everyone"], combined.OwnersOf("README.md"));

        var reversed = config.Then(file);
        Assert.Equal(["@acme/payments"], reversed.OwnersOf("src/payments/refunds/R.java"));

        // Then leaves both operands as they were.
        Assert.Empty(config.OwnersOf("README.md"));
    }

    [Fact]
    public void The_owners_of_several_paths_are_their_union_by_first_appearance_capped_at_max()
    {
        var owners = CodeOwners.Parse("""
            /src/payments/   @acme/payments @alice
            /src/orders/     @acme/orders @Alice @bob
            /src/search/     @acme/search
            /src/mail/       @acme/mail
            /docs/
            """);
        string[] paths = ["src/payments/A.java", "docs/x.md", "src/orders/B.java", "unowned/c.txt", "src/payments/C.java", "src/search/D.java", "src/mail/E.java"];

        Assert.Equal(["@acme/payments", "@alice", "@acme/orders", "@bob", "@acme/search"], owners.OwnersOf(paths));
        Assert.Equal(["@acme/payments", "@alice", "@acme/orders", "@bob", "@acme/search", "@acme/mail"], owners.OwnersOf(paths, max: 10));
        Assert.Equal(["@acme/payments", "@alice", "@acme/orders"], owners.OwnersOf(paths, max: 3));
        Assert.Empty(owners.OwnersOf(paths, max: 0));
        Assert.Empty(owners.OwnersOf([]));
    }

    [Fact]
    public void A_pathological_pattern_matches_in_linear_time()
    {
        var pattern = string.Concat(Enumerable.Repeat("*a", 30)) + "/**/b";
        var owners = CodeOwners.Parse($"{pattern} @acme/x");
        var path = new string('a', 5000) + "/c";

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Empty(owners.OwnersOf(path));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    // ---- LogPaths ----------------------------------------------------------------------------------------

    [Fact]
    public void Maven_compiler_errors_give_the_source_path_below_the_jenkins_workspace()
    {
        const string log = """
            [INFO] --- maven-compiler-plugin:3.11.0:compile (default-compile) @ refunds ---
            [INFO] Compiling 42 source files with javac [debug target 17] to target/classes
            [ERROR] COMPILATION ERROR :
            [ERROR] /var/lib/jenkins/workspace/payments/service/src/main/java/com/acme/RefundService.java:[87,25] cannot find symbol
              symbol:   variable amountCents
              location: class com.acme.RefundService
            [ERROR] src/main/java/com/acme/RefundController.java:[12,8] class RefundControler is public
            [ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project refunds
            [ERROR] -> [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/MojoFailureException.html
            Downloaded from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/2.0.9/slf4j-api-2.0.9.pom (2.3 kB)
            [ERROR] Failed to read artifact descriptor: /home/jenkins/.m2/repository/org/acme/core/1.0/core-1.0.pom
            """;

        Assert.Equal(
            ["src/main/java/com/acme/RefundService.java", "src/main/java/com/acme/RefundController.java"],
            LogPaths.Extract(log));
    }

    [Fact]
    public void Java_stack_frames_name_no_directory_and_are_skipped()
    {
        const string log = """
            java.lang.IllegalStateException: refund exceeds charge
                at com.acme.Foo(Foo.java:42)
                at com.acme.RefundService.refund(RefundService.java:87)
                at java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
            """;

        Assert.Empty(LogPaths.Extract(log));
    }

    [Fact]
    public void Pytest_failures_and_python_tracebacks_give_their_paths_but_not_installed_packages()
    {
        const string log = """
            ============================= FAILURES =============================
            ___________________________ test_total ____________________________
            tests/test_invoice.py:58: AssertionError
            Traceback (most recent call last):
              File "/usr/local/lib/python3.12/site-packages/_pytest/runner.py", line 341, in from_call
              File "/home/runner/work/billing/billing/.venv/lib/python3.12/site-packages/sqlalchemy/orm/session.py", line 12
              File "app/models/user.py", line 12, in save
              File "<frozen importlib._bootstrap>", line 1204, in _gcd_import
            FAILED tests/test_invoice.py::test_total - assert 1 == 2
            /tmp/pytest-of-runner/pytest-0/test_export0/out.csv was not written
            """;

        Assert.Equal(["tests/test_invoice.py", "app/models/user.py"], LogPaths.Extract(log));
    }

    [Fact]
    public void Go_test_and_build_output_gives_package_paths_but_not_module_names()
    {
        const string log = """
            # github.com/acme/svc/pkg/parser
            pkg/parser/parse.go:12:3: undefined: tokenise
            --- FAIL: TestParse (0.00s)
                parse_test.go:41: got 1, want 2
            pkg/parser/parse_test.go:41: got 1, want 2
            github.com/acme/svc/pkg/parser.TestParse(0xc000102340)
            	/home/runner/go/pkg/mod/github.com/stretchr/testify@v1.9.0/assert/assertions.go:1234 +0x1d
            FAIL	github.com/acme/svc/pkg/parser	0.012s
            """;

        Assert.Equal(["pkg/parser/parse.go", "pkg/parser/parse_test.go"], LogPaths.Extract(log));
    }

    [Fact]
    public void Dotnet_diagnostics_give_their_paths_in_parenthesised_locations()
    {
        const string log = """
            src/Api/Program.cs(12,5): error CS0103: The name 'builder' does not exist in the current context [/home/runner/work/shop/shop/src/Api/Api.csproj]
            Program.cs(12,5): error CS0103: The name 'builder' does not exist in the current context
            Build FAILED.
            """;

        Assert.Equal(["src/Api/Program.cs", "src/Api/Api.csproj"], LogPaths.Extract(log));
    }

    [Fact]
    public void Typescript_and_jest_output_give_their_paths_but_not_node_modules()
    {
        const string log = """
            src/app.ts(3,1): error TS2304: Cannot find name 'foo'.
            src/components/Button.tsx:14:7 - error TS2322: Type 'string' is not assignable to type 'number'.
            FAIL src/components/Button.test.tsx
                at Object.<anonymous> (src/components/Button.test.tsx:10:5)
                at Module._compile (node:internal/modules/cjs/loader:1105:14)
                at runTest (/home/runner/work/web/web/node_modules/jest-runner/build/runTest.js:444:34)
            """;

        Assert.Equal(["src/app.ts", "src/components/Button.tsx", "src/components/Button.test.tsx"], LogPaths.Extract(log));
    }

    [Fact]
    public void Ruby_backtraces_and_rspec_give_their_paths_without_the_leading_dot_slash()
    {
        const string log = """
            NoMethodError: undefined method `total' for nil:NilClass
              ./lib/util.rb:10:in `block in sum'
              # ./spec/models/invoice_spec.rb:22:in `block (2 levels) in <top (required)>'
              /usr/local/bundle/gems/rspec-core-3.12.2/lib/rspec/core/example.rb:263:in `instance_exec'
            rspec ./spec/models/invoice_spec.rb:20 # Invoice totals
            """;

        Assert.Equal(["lib/util.rb", "spec/models/invoice_spec.rb"], LogPaths.Extract(log));
    }

    [Theory]
    [InlineData("/var/lib/jenkins/workspace/payments/service/src/main/java/X.java:[1,2] error", "src/main/java/X.java")]
    [InlineData("/var/lib/jenkins/workspace/folder/job_main/tests/test_x.py:3: error", "tests/test_x.py")]
    [InlineData("/var/lib/jenkins/workspace/refunds/build.gradle: error", null)]
    [InlineData("/var/lib/jenkins/workspace/refunds/config/app.yml: error", "config/app.yml")]
    [InlineData(@"C:\Jenkins\workspace\payments\src\Api\X.cs(3,4): error", "src/Api/X.cs")]
    [InlineData("/home/runner/work/repo/repo/src/x.py:10: error", "src/x.py")]
    [InlineData("/Users/runner/work/repo/repo/Sources/App/X.swift:10: error", "Sources/App/X.swift")]
    [InlineData("/__w/repo/repo/src/x.py:10: error", "src/x.py")]
    [InlineData(@"D:\a\repo\repo\src\X.cs(1,1): error", "src/X.cs")]
    [InlineData("/home/runner/work/_temp/3f1c2b.sh: line 2: make: command not found", null)]
    [InlineData("/home/runner/work/_actions/actions/checkout/v4/dist/index.js:1", null)]
    [InlineData("/builds/group/project/src/x.rb:3:in `x'", "src/x.rb")]
    [InlineData("/home/travis/build/owner/repo/lib/x.js:3", "lib/x.js")]
    [InlineData(@"C:\agent\_work\1\s\src\X.cs(12,5): error CS0103", "src/X.cs")]
    [InlineData("/home/vsts/work/1/s/src/x.ts(1,2): error", "src/x.ts")]
    [InlineData("/azp/_work/12/s/app/x.py:1", "app/x.py")]
    [InlineData("/home/me/actions-runner/_work/repo/repo/cmd/main.go:4:2: error", "cmd/main.go")]
    [InlineData("e: file:///home/runner/work/repo/repo/src/main/kotlin/X.kt: (10, 5): Unresolved reference", "src/main/kotlin/X.kt")]
    public void Ci_workspace_prefixes_are_stripped_to_repository_relative_paths(string line, string? expected)
    {
        var paths = LogPaths.Extract(line);

        if (expected is null)
        {
            Assert.Empty(paths);
        }
        else
        {
            Assert.Equal([expected], paths);
        }
    }

    [Theory]
    [InlineData("see https://github.com/acme/svc/blob/main/src/app.py for details")]
    [InlineData("Downloading http://registry.example.com/pkg/lib/x.tar.gz")]
    [InlineData("/home/runner/work/web/web/node_modules/lodash/index.js:10")]
    [InlineData("/home/jenkins/.m2/repository/org/acme/x.jar")]
    [InlineData("lib/python3.12/site-packages/requests/api.py:59")]
    [InlineData("/usr/lib/python3.12/unittest/case.py:57")]
    [InlineData("/opt/hostedtoolcache/go/1.22.0/x64/src/testing/testing.go:1595")]
    [InlineData("/tmp/build-1234/src/main.c:3: error")]
    [InlineData("/Users/alice/code/repo/src/x.py:3")]
    [InlineData("cp: cannot stat 'src/generated/Makefile': No such file")]
    [InlineData("docker pull ghcr.io/acme/builder/image.v2:latest")]
    [InlineData("remote: git@github.com:acme/svc.git")]
    [InlineData("ratio 1/2.5 of tests passed, and/or cancelled, 3/4.0s")]
    [InlineData("../shared/util.rb:3")]
    [InlineData("~/.cache/pip/x.whl")]
    [InlineData("/var/lib/jenkins/workspace/job@tmp/durable-1234/script.sh: line 1: exit 1")]
    public void Urls_dependencies_system_paths_and_names_without_extension_are_ignored(string line)
    {
        Assert.Empty(LogPaths.Extract(line));
    }

    [Fact]
    public void Paths_come_once_in_order_of_first_appearance_up_to_max()
    {
        const string log = """
            src/b.py:1
            src/a.py:2
            ./src/b.py:3
            src/c.py:4 src/d.py:5
            """;

        Assert.Equal(["src/b.py", "src/a.py", "src/c.py", "src/d.py"], LogPaths.Extract(log));
        Assert.Equal(["src/b.py", "src/a.py", "src/c.py"], LogPaths.Extract(log, max: 3));
        Assert.Empty(LogPaths.Extract(log, max: 0));
        Assert.Empty(LogPaths.Extract(string.Empty));
    }

    [Fact]
    public void Colours_and_sentence_ends_do_not_stick_to_a_path()
    {
        const string log = "\u001b[31mERROR\u001b[0m in \u001b[1msrc/app/main.ts\u001b[22m:4:2\r\nsee lib/x.rb.\r\n";

        Assert.Equal(["src/app/main.ts", "lib/x.rb"], LogPaths.Extract(log));
    }

    [Fact]
    public void Lines_longer_than_the_limit_are_cut()
    {
        var log = new string(' ', 1990) + "src/cut/off.py " + new string('x', 50) + " src/beyond.py\nsrc/next.py:1";

        // What is left of the first path has no extension, and the second lies past the cut.
        Assert.Equal(["src/next.py"], LogPaths.Extract(log));
    }

    [Fact]
    public void A_large_hostile_log_is_read_in_linear_time()
    {
        var hostile = string.Join('\n', Enumerable.Repeat(new string('a', 1500) + ":" + new string('/', 400) + "http://" + new string('.', 90), 2000));
        var log = hostile + "\nsrc/found.py:1";

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(["src/found.py"], LogPaths.Extract(log));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    private static void AssertMatch(string pattern, string path, bool matches)
    {
        var owners = CodeOwners.Parse($"{pattern} @acme/owner");
        Assert.True(
            owners.OwnersOf(path).Count == (matches ? 1 : 0),
            $"'{pattern}' should {(matches ? string.Empty : "not ")}match '{path}'");
    }
}
