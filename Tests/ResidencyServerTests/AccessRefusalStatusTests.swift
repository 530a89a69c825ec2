import ResidencyController
import ResidencyCore
import Testing

@testable import ResidencyServer

/// Every access refusal answers the status of its category; the mapping has no default, so a new reason or
/// category must be placed before it compiles.
@Suite struct AccessRefusalStatusTests {
    static let expected: [AccessRefusal.Kind: Int] = [
        .unknownOffice: 422, .unknownJustification: 422, .referenceRequired: 422, .emptyScope: 422,
        .breakGlassNotAllowed: 422, .grantTooLong: 422, .unknownRegion: 422, .transferForbidden: 422,
        .invalidHours: 422, .wrongStaff: 422, .wrongCountry: 422, .outOfScope: 422,
        .notPending: 409, .notGranted: 409, .notBreakGlass: 409, .alreadyReviewed: 409, .grantExpired: 409,
        .noActiveGrant: 409,
        .separationOfDuties: 403, .customerApprovalRequired: 403, .customerApprovalSetByTenant: 403,
    ]

    @Test func everyKindHasAnExpectedStatus() {
        #expect(Set(Self.expected.keys) == Set(AccessRefusal.Kind.allCases))
    }

    @Test(arguments: AccessRefusal.Kind.allCases)
    func statusOfEachKind(kind: AccessRefusal.Kind) {
        let error = APIError(ControllerError.accessRefused(AccessRefusal(code: kind, rule: "r", message: "no")))
        #expect(error.status == Self.expected[kind])
        #expect(error.code == kind.rawValue)
    }

    @Test func categoriesMapToDistinctStatuses() {
        let statuses = AccessRefusal.Category.allCases.map(\.httpStatus)
        #expect(statuses == [409, 403, 422])
    }
}
