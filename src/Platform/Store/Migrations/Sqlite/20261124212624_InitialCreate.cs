using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Triage.Platform.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "triages",
                columns: table => new
                {
                    event_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    route = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    source = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    job = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    build_number = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    repository = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    category = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                    provider = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    model = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    input_tokens = table.Column<int>(type: "INTEGER", nullable: false),
                    output_tokens = table.Column<int>(type: "INTEGER", nullable: false),
                    cost_usd = table.Column<decimal>(type: "TEXT", precision: 18, scale: 8, nullable: false),
                    result = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_triages", x => x.event_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_triages_received_at",
                table: "triages",
                column: "received_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "triages");
        }
    }
}
