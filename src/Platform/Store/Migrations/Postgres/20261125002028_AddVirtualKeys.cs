using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Triage.Platform.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddVirtualKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "budget_usage",
                columns: table => new
                {
                    key_id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    period_start = table.Column<long>(type: "bigint", nullable: false),
                    reserved_micros = table.Column<long>(type: "bigint", nullable: false),
                    spent_micros = table.Column<long>(type: "bigint", nullable: false),
                    saved_micros = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_budget_usage", x => new { x.key_id, x.period_start });
                });

            migrationBuilder.CreateTable(
                name: "charges",
                columns: table => new
                {
                    event_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    key_id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    team = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    period_start = table.Column<long>(type: "bigint", nullable: false),
                    reserved_micros = table.Column<long>(type: "bigint", nullable: false),
                    reserved_tokens = table.Column<int>(type: "integer", nullable: false),
                    charged_micros = table.Column<long>(type: "bigint", nullable: false),
                    state = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    created_at = table.Column<long>(type: "bigint", nullable: false),
                    settled_at = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_charges", x => x.event_id);
                });

            migrationBuilder.CreateTable(
                name: "usage_hourly",
                columns: table => new
                {
                    hour = table.Column<long>(type: "bigint", nullable: false),
                    key_id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    provider = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    team = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    triages = table.Column<long>(type: "bigint", nullable: false),
                    failed_attempts = table.Column<long>(type: "bigint", nullable: false),
                    cache_hits = table.Column<long>(type: "bigint", nullable: false),
                    input_tokens = table.Column<long>(type: "bigint", nullable: false),
                    output_tokens = table.Column<long>(type: "bigint", nullable: false),
                    cost_micros = table.Column<long>(type: "bigint", nullable: false),
                    saved_micros = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_usage_hourly", x => new { x.hour, x.key_id, x.provider, x.model });
                });

            migrationBuilder.CreateTable(
                name: "virtual_keys",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    team = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    routes = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    rpm = table.Column<int>(type: "integer", nullable: true),
                    tpm = table.Column<int>(type: "integer", nullable: true),
                    budget_micros = table.Column<long>(type: "bigint", nullable: true),
                    budget_period = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: true),
                    expires_at = table.Column<long>(type: "bigint", nullable: true),
                    created_at = table.Column<long>(type: "bigint", nullable: false),
                    revoked_at = table.Column<long>(type: "bigint", nullable: true),
                    revoked_reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    request_tat = table.Column<long>(type: "bigint", nullable: false),
                    token_tat = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_virtual_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "key_secrets",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    prefix = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    key_id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    created_at = table.Column<long>(type: "bigint", nullable: false),
                    not_after = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_key_secrets", x => x.hash);
                    table.ForeignKey(
                        name: "FK_key_secrets_virtual_keys_key_id",
                        column: x => x.key_id,
                        principalTable: "virtual_keys",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_charges_key_id_state",
                table: "charges",
                columns: new[] { "key_id", "state" });

            migrationBuilder.CreateIndex(
                name: "IX_key_secrets_key_id",
                table: "key_secrets",
                column: "key_id");

            migrationBuilder.CreateIndex(
                name: "IX_key_secrets_prefix",
                table: "key_secrets",
                column: "prefix");

            migrationBuilder.CreateIndex(
                name: "IX_usage_hourly_team_hour",
                table: "usage_hourly",
                columns: new[] { "team", "hour" });

            migrationBuilder.CreateIndex(
                name: "IX_virtual_keys_team",
                table: "virtual_keys",
                column: "team");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "budget_usage");

            migrationBuilder.DropTable(
                name: "charges");

            migrationBuilder.DropTable(
                name: "key_secrets");

            migrationBuilder.DropTable(
                name: "usage_hourly");

            migrationBuilder.DropTable(
                name: "virtual_keys");
        }
    }
}
