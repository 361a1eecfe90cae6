/// Aligned text columns, as overlayctl prints its tables.
enum TextTable {
    /// Renders rows as columns separated by two spaces, each padded to its widest cell (the
    /// last column is not padded), one line per row, each ending in a newline.
    ///
    /// - Parameter rows: the title row, then the data rows; every row has the same cell count.
    /// - Returns: the table text.
    static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                if index == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            out += line + "\n"
        }
        return out
    }
}
