using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Triage.Platform.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddCacheEntries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "cache_entries",
                columns: table => new
                {
                    collection = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    scope = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    vector = table.Column<byte[]>(type: "BLOB", nullable: false),
                    dimensions = table.Column<int>(type: "INTEGER", nullable: false),
                    identity = table.Column<string>(type: "TEXT", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cache_entries", x => new { x.collection, x.id });
                });

            migrationBuilder.CreateIndex(
                name: "IX_cache_entries_collection_scope",
                table: "cache_entries",
                columns: new[] { "collection", "scope" });

            migrationBuilder.CreateIndex(
                name: "IX_cache_entries_created_at",
                table: "cache_entries",
                column: "created_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cache_entries");
        }
    }
}
