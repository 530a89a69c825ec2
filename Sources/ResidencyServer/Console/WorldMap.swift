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
        // One label per region, at its first site; a label that would sit on one already placed goes below its
        // circle instead (the UK's and the EU's sites are close: their labels overlapped in the screenshots).
        var placed: [(x: Double, y: Double)] = []
        for region in regions {
            let count = tenants[region.id, default: 0]
            let radius = 4 + 14 * sqrt(Double(count) / Double(largest))
            for (index, site) in region.sites.enumerated() {
                let px = x(site.location.longitude)
                let py = y(site.location.latitude)
                let cx = String(format: "%.1f", px)
                let cy = String(format: "%.1f", py)
                var label = ""
                if index == 0 {
                    var ly = py - radius - 4
                    if placed.contains(where: { abs($0.x - px) < 70 && abs($0.y - ly) < 16 }) { ly = py + radius + 14 }
                    placed.append((px, ly))
                    label =
                        "<text x=\"\(cx)\" y=\"\(String(format: "%.1f", ly))\" text-anchor=\"middle\" font-size=\"13\">\(HTML.escape(region.id)) \(count)</text>"
                }
                marks += """
                    <g><title>\(HTML.escape(region.name)): \(count) tenants; site \(HTML.escape(site.id)) in \(HTML.escape(site.city))</title>
                    <circle cx="\(cx)" cy="\(cy)" r="\(String(format: "%.1f", radius))" fill="#1f6fb2" fill-opacity="0.55" stroke="#12324f"/>
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
