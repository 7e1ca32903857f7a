using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Triage.Platform.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddDeadLetters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "replays",
                table: "triages",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "dead_letters",
                columns: table => new
                {
                    event_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    route = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    group_key = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    detail = table.Column<string>(type: "TEXT", nullable: true),
                    last_provider = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    attempts = table.Column<string>(type: "TEXT", nullable: false),
                    failure = table.Column<string>(type: "TEXT", nullable: false),
                    first_failed_at = table.Column<long>(type: "INTEGER", nullable: false),
                    last_failed_at = table.Column<long>(type: "INTEGER", nullable: false),
                    times_dead_lettered = table.Column<int>(type: "INTEGER", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    replay_count = table.Column<int>(type: "INTEGER", nullable: false),
                    replay_run = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                    claimed_at = table.Column<long>(type: "INTEGER", nullable: true),
                    replayed_at = table.Column<long>(type: "INTEGER", nullable: true),
                    archived_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dead_letters", x => x.event_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_dead_letters_last_failed_at",
                table: "dead_letters",
                column: "last_failed_at");

            migrationBuilder.CreateIndex(
                name: "IX_dead_letters_replay_run",
                table: "dead_letters",
                column: "replay_run");

            migrationBuilder.CreateIndex(
                name: "IX_dead_letters_status_group_key",
                table: "dead_letters",
                columns: new[] { "status", "group_key" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "dead_letters");

            migrationBuilder.DropColumn(
                name: "replays",
                table: "triages");
        }
    }
}
