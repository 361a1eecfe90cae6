import Testing
@testable import OverlayCore

/// The keyring file format and key validity.
@Suite struct KeyringTests {
    static let a = TestKeys.id(1), b = TestKeys.id(2), c = TestKeys.id(3), d = TestKeys.id(4)
    /// 2024-03-01T00:00:00Z and 2024-04-01T00:00:00Z in Unix ms.
    static let march1 = Instant(milliseconds: 1_709_251_200_000)
    static let april1 = Instant(milliseconds: 1_711_929_600_000)

    static let file = """
        # guifi.net Sants neighbourhood keyring
        \(a.hex) alice

        \(b.hex)    bob   from=2024-03-01   # bob's new key
        \(c.hex) until=2024-03-31
          \t\(d.hex.uppercased())\tdave from=2024-03-01 until=2024-03-31\r
        # end
        """

    @Test func parsesKeysLabelsAndValidity() throws {
        let keyring = try Keyring.parse(Self.file, source: "/var/lib/overlayd/keyring")
        #expect(keyring.count == 4)
        #expect(keyring.entries[Self.a] == Keyring.Entry(id: Self.a, label: "alice"))
        #expect(keyring.entries[Self.b] == Keyring.Entry(id: Self.b, label: "bob", validFrom: Self.march1))
        #expect(keyring.entries[Self.c] == Keyring.Entry(id: Self.c, validUntil: Self.april1), "until is inclusive: valid through March 31")
        #expect(keyring.entries[Self.d] == Keyring.Entry(id: Self.d, label: "dave", validFrom: Self.march1, validUntil: Self.april1))
    }

    @Test func validityWindowsAreHonoured() throws {
        let keyring = try Keyring.parse(Self.file, source: "keyring")
        let beforeMarch = Self.march1 - .milliseconds(1)
        let lastMomentOfMarch = Self.april1 - .milliseconds(1)
        #expect(keyring.admits(Self.a, at: .zero))
        #expect(!keyring.admits(Self.b, at: beforeMarch))
        #expect(keyring.admits(Self.b, at: Self.march1))
        #expect(keyring.admits(Self.c, at: lastMomentOfMarch))
        #expect(!keyring.admits(Self.c, at: Self.april1))
        #expect(!keyring.admits(Self.d, at: beforeMarch))
        #expect(keyring.admits(Self.d, at: Self.march1))
        #expect(!keyring.admits(Self.d, at: Self.april1))
        #expect(!keyring.admits(TestKeys.id(9), at: Self.march1), "an unlisted key")
    }

    @Test func windowsLineEndingsAreAccepted() throws {
        // "\r\n" is a single Character in Swift: a split on "\n" alone would merge every line.
        let text = "# keyring\r\n\(Self.a.hex) alice\r\n\(Self.b.hex) bob until=2024-03-31\r\n"
        let keyring = try Keyring.parse(text, source: "keyring")
        #expect(keyring.count == 2)
        #expect(keyring.entries[Self.b] == Keyring.Entry(id: Self.b, label: "bob", validUntil: Self.april1))
        let duplicate = "\(Self.a.hex)\r\n\(Self.a.hex)\r\n"
        let error = #expect(throws: KeyringError.self) { try Keyring.parse(duplicate, source: "keyring") }
        #expect(error?.description.hasPrefix("keyring line 2:") == true, "line numbers still count CRLF lines")
    }

    @Test func emptyAndCommentOnlyFilesGiveAnEmptyKeyring() throws {
        #expect(try Keyring.parse("", source: "k").count == 0)
        #expect(try Keyring.parse("# nobody yet\n\n   \n", source: "k").count == 0)
    }

    @Test func duplicateKeyIsAnErrorNamingFileLineAndKey() {
        let text = "\(Self.a.hex) alice\n# again:\n\(Self.a.hex) alice-laptop\n"
        let error1 = #expect(throws: KeyringError.self) { try Keyring.parse(text, source: "/etc/overlayd/keyring") }
        #expect(error1?.description == "/etc/overlayd/keyring line 3: key \(Self.a.shortForm) is listed twice")
    }

    @Test func badKeyIsAnErrorNamingFileAndLine() {
        let text = "\(Self.a.hex)\nnot-a-key bob\n"
        let error2 = #expect(throws: KeyringError.self) { try Keyring.parse(text, source: "keyring.txt") }
        #expect(error2?.description == "keyring.txt line 2: 'not-a-key' is not a public key (expected 64 hex digits, as 'overlayd init' prints)")
        let short = String(Self.a.hex.dropLast(2))
        #expect(throws: KeyringError.self) { try Keyring.parse(short, source: "k") }
        let nonHex = String(Self.a.hex.dropLast(2)) + "zz"
        #expect(throws: KeyringError.self) { try Keyring.parse(nonHex, source: "k") }
    }

    @Test func badDateIsAnErrorSayingHowToWriteIt() {
        let error3 = #expect(throws: KeyringError.self) { try Keyring.parse("\(Self.a.hex) alice from=2024-13-01", source: "keyring") }
        #expect(error3?.description == "keyring line 1: 'from=2024-13-01' is not a date (write from=YYYY-MM-DD)")
        let error4 = #expect(throws: KeyringError.self) { try Keyring.parse("\n\(Self.a.hex) until=soon", source: "keyring") }
        #expect(error4?.description == "keyring line 2: 'until=soon' is not a date (write until=YYYY-MM-DD)")
        // A year in the quintillions overflowed the day count (found by the keyring fuzz target).
        let error5 = #expect(throws: KeyringError.self) { try Keyring.parse("\(Self.a.hex) from=555555555555555555-1-1", source: "keyring") }
        #expect(error5?.description == "keyring line 1: 'from=555555555555555555-1-1' is not a date (write from=YYYY-MM-DD)")
    }

    @Test func extraFieldIsAnError() {
        let error5 = #expect(throws: KeyringError.self) { try Keyring.parse("\(Self.a.hex) alice smith", source: "keyring") }
        #expect(error5?.description == "keyring line 1: unexpected 'smith' (a line is: KEY [name] [from=YYYY-MM-DD] [until=YYYY-MM-DD] [role=operator])")
    }

    @Test func calendarDaysConvertToUTCMidnight() throws {
        #expect(CalendarDay(parsing: "1970-01-01")?.start == .zero)
        #expect(CalendarDay(parsing: "2024-03-01")?.start == Self.march1)
        #expect(CalendarDay(parsing: "2000-02-29")?.start == Instant(milliseconds: 951_782_400_000))
        #expect(CalendarDay(parsing: "1969-12-31") == nil)
        #expect(CalendarDay(parsing: "2024-03") == nil)
    }
}
