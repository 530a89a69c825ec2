/// The legal ground on which data hosted in a region may be reached from, or moved to, another country.
package enum TransferMechanism: Sendable, Hashable {
    /// The destination is inside the region's jurisdiction: not an international transfer.
    case notATransfer
    /// An adequacy decision or regulation covering the destination.
    case adequacy(reference: String)
    /// EU Standard Contractual Clauses (Commission Implementing Decision (EU) 2021/914), module 1–4.
    case euSCC(module: Int, contract: String, impactAssessment: String?)
    /// The UK International Data Transfer Agreement.
    case ukIDTA(contract: String, impactAssessment: String?)
    /// The UK Addendum to the EU SCCs.
    case ukAddendum(contract: String, impactAssessment: String?)
    /// A provision of the hosting country's own law (India, Singapore, Australia, South Africa, UAE).
    case localLaw(law: String, provision: String, impactAssessment: String?)
    /// No lawful basis: access and movement are refused.
    case forbidden(reason: String)

    /// The value spelt in `transfers.json` and in every record.
    package var code: String {
        switch self {
        case .notATransfer: return "not_a_transfer"
        case .adequacy: return "adequacy"
        case .euSCC: return "eu_scc"
        case .ukIDTA: return "uk_idta"
        case .ukAddendum: return "uk_addendum"
        case .localLaw: return "local_law"
        case .forbidden: return "forbidden"
        }
    }

    package var isPermitted: Bool {
        if case .forbidden = self { return false }
        return true
    }

    /// One line a compliance officer can read.
    package var summary: String {
        switch self {
        case .notATransfer: return "not a transfer (same jurisdiction)"
        case .adequacy(let reference): return "adequacy: \(reference)"
        case .euSCC(let module, let contract, let tia):
            return "EU SCC module \(module), contract \(contract)" + (tia.map { ", TIA \($0)" } ?? "")
        case .ukIDTA(let contract, let tia): return "UK IDTA, contract \(contract)" + (tia.map { ", TIA \($0)" } ?? "")
        case .ukAddendum(let contract, let tia):
            return "UK Addendum to the EU SCCs, contract \(contract)" + (tia.map { ", TIA \($0)" } ?? "")
        case .localLaw(let law, let provision, let tia):
            return "\(law), \(provision)" + (tia.map { ", TIA \($0)" } ?? "")
        case .forbidden(let reason): return "forbidden: \(reason)"
        }
    }
}

extension TransferMechanism {
    /// The EU SCC module, for reports that spell the basis out field by field.
    package var sccModule: Int? {
        if case .euSCC(let module, _, _) = self { return module }
        return nil
    }

    /// The contract the transfer rests on (SCCs, IDTA, Addendum).
    package var contract: String? {
        switch self {
        case .euSCC(_, let contract, _), .ukIDTA(let contract, _), .ukAddendum(let contract, _): return contract
        default: return nil
        }
    }

    /// The transfer impact assessment's reference.
    package var impactAssessment: String? {
        switch self {
        case .euSCC(_, _, let tia), .ukIDTA(_, let tia), .ukAddendum(_, let tia), .localLaw(_, _, let tia): return tia
        default: return nil
        }
    }

    /// The adequacy decision, or the law and provision, the transfer rests on.
    package var reference: String? {
        switch self {
        case .adequacy(let reference): return reference
        case .localLaw(let law, let provision, _): return "\(law), \(provision)"
        case .forbidden(let reason): return reason
        default: return nil
        }
    }
}

/// A resolved transfer: the mechanism and the rule of `transfers.json` it came from.
package struct TransferBasis: Sendable, Hashable {
    package let region: String
    package let destination: CountryCode
    package let mechanism: TransferMechanism
    /// The rule id, or `jurisdiction` when the destination is inside the region's own jurisdiction.
    package let rule: String
}
