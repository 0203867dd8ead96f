import Foundation
import NephoSupport
import Testing

@Suite struct GitSourceTests {
    @Test(arguments: [
        ("https://github.com/huit/nepho-mediawiki.git", GitSource.Kind.https),
        ("ssh://git@github.com:22/huit/nepho-mediawiki.git", .ssh),
        ("git@github.com:huit/nepho-mediawiki.git", .scp),
        ("github.com:huit/repo", .scp),
        ("ssh://[::1]:2222/srv/repo.git", .ssh),
        ("file:///srv/git/repo", .file),
        ("/srv/git/repo", .localPath),
    ])
    func acceptsTheAllowedForms(text: String, kind: GitSource.Kind) throws {
        let source = try GitSource(text)
        #expect(source.kind == kind)
    }

    @Test func resolvesRelativePathsAgainstTheBase() throws {
        let source = try GitSource("repos/../wiki", relativeTo: URL(fileURLWithPath: "/home/ada"))
        #expect(source.kind == .localPath)
        #expect(source.argument == "/home/ada/wiki")
        #expect(source.isLocal)
    }

    /// Every form the safe-git rules refuse, with a word of the reason users see.
    @Test(arguments: [
        ("ext::sh -c touch% /tmp/pwned", "white space"),
        ("ext::sh", "'ext::' transport"),
        ("fd::3", "'fd::' transport"),
        ("http://example.com/repo.git", "'http' scheme"),
        ("git://example.com/repo.git", "'git' scheme"),
        ("ftp://example.com/repo.git", "'ftp' scheme"),
        ("ssh://-oProxyCommand=touch%20x/repo", "percent-escapes"),
        ("ssh://-oProxyCommand=x/repo", "starts with '-'"),
        ("ssh://%2doProxyCommand=x/repo", "percent-escapes"),
        ("ssh://-user@host/repo", "user name"),
        ("-oProxyCommand=x:repo", "starts with '-'"),
        ("--upload-pack=touch /tmp/x", "white space"),
        ("--upload-pack=x", "starts with '-'"),
        ("host:-repo", "path starts with '-'"),
        ("-u@host:repo", "starts with '-'"),
        ("https://", "no host"),
        ("https://example.com", "no repository path"),
        ("https://exa$mple.com/x", "characters"),
        ("file://otherhost/srv/repo", "absolute path on this machine"),
        ("/srv/-repo", "starts with '-'"),
        ("https://example.com/repo\n", "control"),
        ("", "empty"),
    ])
    func refusesEachDangerousForm(text: String, reason: String) {
        #expect {
            _ = try GitSource(text)
        } throws: { error in
            let message = "\(error)"
            return message.contains("refusing git source") && message.contains(reason)
        }
    }

    @Test func redactsPasswordsAndTokensInMessages() throws {
        #expect(
            GitSource.redacted("https://ada:hunter2@example.com/x.git")
                == "https://ada:<redacted>@example.com/x.git")
        #expect(
            GitSource.redacted("https://ghp_token@example.com/x.git")
                == "https://<redacted>@example.com/x.git")
        #expect(GitSource.redacted("ssh://git@example.com/x.git") == "ssh://git@example.com/x.git")
        let source = try GitSource("https://ada:hunter2@example.com/x.git")
        #expect(!"\(source)".contains("hunter2"))
    }
}
