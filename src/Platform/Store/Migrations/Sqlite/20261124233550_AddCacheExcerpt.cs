using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Triage.Platform.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddCacheExcerpt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "cache_excerpt",
                table: "triages",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "cache_excerpt",
                table: "triages");
        }
    }
}
