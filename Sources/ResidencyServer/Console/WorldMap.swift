import Foundation
import ResidencyCore

/// The overview's world map: an SVG (no script, no external asset) in an equirectangular projection, one circle
/// per site at its coordinates, sized by its region's tenants, with a text label and a title for screen readers.
enum WorldMap {
    static func svg(regions: [Region], tenants: [String: Int]) -> String {
        // Latitudes 75° N to 50° S only: every site lies between, and the polar bands were empty space that made
        // the map twice as tall as its content (seen in the console's screenshots).
        let width = 720.0
        let north = 75.0
        let south = -50.0
        let height = (north - south) / 360 * width
        func x(_ longitude: Double) -> Double { (longitude + 180) / 360 * width }
        func y(_ latitude: Double) -> Double { (north - latitude) / (north - south) * height }
        let largest = max(1, tenants.values.max() ?? 1)
        var marks = ""
        // Circles already drawn. Sites close together (London, Dublin and Frankfurt are 10–20 px apart at this
        // scale, their circles up to 18 px across) would pile up and hide one another — the uk circle sat on the
        // eu one in the screenshots — so a circle that would overlap one already drawn is moved out to the nearest
        // free spot around its site and tied to it by a leader line, with a dot marking the site itself.
        var circles: [(x: Double, y: Double, r: Double)] = []
        func free(_ x: Double, _ y: Double, _ r: Double) -> Bool {
            x - r >= 0 && x + r <= width && y - r >= 0 && y + r <= height
                && !circles.contains { (($0.x - x) * ($0.x - x) + ($0.y - y) * ($0.y - y)).squareRoot() < $0.r + r + 3 }
        }
        func spot(_ px: Double, _ py: Double, _ r: Double) -> (x: Double, y: Double) {
            if free(px, py, r) { return (px, py) }
            var distance = r
            while distance < 200 {
                for step in 0..<24 {
                    let angle = Double(step) * Double.pi / 12
                    let (cx, cy) = (px + distance * cos(angle), py - distance * sin(angle))
                    if free(cx, cy, r) { return (cx, cy) }
                }
                distance += 4
            }
            return (px, py)
        }
        // One label per region, at its first site; a label that would sit on one already placed goes below its
        // circle instead (the UK's and the EU's sites are close: their labels overlapped in the screenshots).
        var placed: [(x: Double, y: Double)] = []
        func format(_ value: Double) -> String { String(format: "%.1f", value) }
        for region in regions {
            let count = tenants[region.id, default: 0]
            let radius = 4 + 14 * sqrt(Double(count) / Double(largest))
            for (index, site) in region.sites.enumerated() {
                let sx = x(site.location.longitude)
                let sy = y(site.location.latitude)
                let (px, py) = spot(sx, sy, radius)
                circles.append((px, py, radius))
                var leader = ""
                if px != sx || py != sy {
                    leader =
                        "<line x1=\"\(format(sx))\" y1=\"\(format(sy))\" x2=\"\(format(px))\" y2=\"\(format(py))\" stroke=\"#12324f\"/>"
                        + "<circle cx=\"\(format(sx))\" cy=\"\(format(sy))\" r=\"2\" fill=\"#12324f\"/>"
                }
                var label = ""
                if index == 0 {
                    var ly = py - radius - 4
                    if placed.contains(where: { abs($0.x - px) < 70 && abs($0.y - ly) < 16 })
                        || circles.dropLast().contains(where: {
                            abs($0.x - px) < $0.r + 30 && abs($0.y - ly) < $0.r + 6
                        })
                    {
                        ly = py + radius + 14
                    }
                    placed.append((px, ly))
                    label =
                        "<text x=\"\(format(px))\" y=\"\(format(ly))\" text-anchor=\"middle\" font-size=\"13\">\(HTML.escape(region.id)) \(count)</text>"
                }
                marks += """
                    <g><title>\(HTML.escape(region.name)): \(count) tenants; site \(HTML.escape(site.id)) in \(HTML.escape(site.city))</title>
                    \(leader)<circle cx="\(format(px))" cy="\(format(py))" r="\(format(radius))" fill="#1f6fb2" fill-opacity="0.55" stroke="#12324f"/>
                    \(label)</g>
                    """
            }
        }
        return """
            <svg role="img" aria-labelledby="map-title" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" preserveAspectRatio="xMidYMid meet">
            <title id="map-title">Tenants per region, at each region's sites</title>
            <rect width="\(Int(width))" height="\(Int(height))" fill="#eef3f7"/>
            <line x1="0" y1="\(Int(y(0)))" x2="\(Int(width))" y2="\(Int(y(0)))" stroke="#c8d3dc"/>
            <line x1="\(Int(width / 2))" y1="0" x2="\(Int(width / 2))" y2="\(Int(height))" stroke="#c8d3dc"/>
            \(marks)
            </svg>
            """
    }
}
