import Foundation
import ResidencyCore

/// The overview's world map: an SVG (no script, no external asset) in an equirectangular projection, one circle
/// per site at its coordinates, sized by its region's tenants, with a text label and a title for screen readers.
enum WorldMap {
    static func svg(regions: [Region], tenants: [String: Int]) -> String {
        let width = 720.0
        let height = 360.0
        func x(_ longitude: Double) -> Double { (longitude + 180) / 360 * width }
        func y(_ latitude: Double) -> Double { (90 - latitude) / 180 * height }
        let largest = max(1, tenants.values.max() ?? 1)
        var marks = ""
        for region in regions {
            let count = tenants[region.id, default: 0]
            let radius = 4 + 14 * sqrt(Double(count) / Double(largest))
            for site in region.sites {
                let cx = String(format: "%.1f", x(site.location.longitude))
                let cy = String(format: "%.1f", y(site.location.latitude))
                marks += """
                    <g><title>\(HTML.escape(region.name)): \(count) tenants; site \(HTML.escape(site.id)) in \(HTML.escape(site.city))</title>
                    <circle cx="\(cx)" cy="\(cy)" r="\(String(format: "%.1f", radius))" fill="#1f6fb2" fill-opacity="0.55" stroke="#12324f"/>
                    <text x="\(cx)" y="\(cy)" dy="-\(String(format: "%.0f", radius + 3))" text-anchor="middle" font-size="11">\(HTML.escape(region.id)) \(count)</text></g>
                    """
            }
        }
        return """
            <svg role="img" aria-labelledby="map-title" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" preserveAspectRatio="xMidYMid meet">
            <title id="map-title">Tenants per region, at each region's sites</title>
            <rect width="\(Int(width))" height="\(Int(height))" fill="#eef3f7"/>
            <line x1="0" y1="\(Int(height / 2))" x2="\(Int(width))" y2="\(Int(height / 2))" stroke="#c8d3dc"/>
            <line x1="\(Int(width / 2))" y1="0" x2="\(Int(width / 2))" y2="\(Int(height))" stroke="#c8d3dc"/>
            \(marks)
            </svg>
            """
    }
}
