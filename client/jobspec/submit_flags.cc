#include "client/jobspec/submit_flags.h"

#include "client/jobspec/parse_util.h"
#include "client/jobspec/sbatch_options.h"

namespace drocc::client {

using internal::OptionUse;
using internal::SbatchOption;

void AddSubmitFlags(CLI::App& app, SubmitFlags& f) {
  constexpr std::string_view kCompat = "sbatch compatibility";
  for (const SbatchOption& o : internal::SbatchOptions()) {
    if (o.use == OptionUse::kUnsupported) continue;
    std::string names = internal::Cat("--", o.long_name);
    if (o.short_name != '\0') names = internal::Cat("-", std::string(1, o.short_name), ",", names);
    if (o.use == OptionUse::kIgnored) {
      const std::string label = internal::Cat("--", o.long_name);
      app.add_option_function<std::string>(
             names, [&f, label](const std::string&) { f.ignored.push_back(label); },
             internal::Cat("accepted and ignored: ", o.note))
          ->type_name(std::string(o.value_name))
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
          ->group(std::string(kCompat));
      continue;
    }
    if (o.field == nullptr) {  // --parsable, the one flag
      app.add_flag(names, f.parsable, std::string(o.note));
      continue;
    }
    CLI::Option* option =
        app.add_option_function<std::string>(
               names, [&f, field = o.field](const std::string& value) { f.*field = value; },
               std::string(o.note))
            ->type_name(std::string(o.value_name))
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    if (o.long_name == "account") option->group(std::string(kCompat));
  }
  app.prefix_command();
  app.parse_complete_callback([&app, &f] {
    std::vector<std::string> rest = app.remaining();
    f.script.clear();
    f.script_args.clear();
    if (rest.empty()) return;
    f.script = rest.front();
    f.script_args.assign(rest.begin() + 1, rest.end());
  });
}

absl::StatusOr<SubmitFlags> ParseSubmitArgs(const std::vector<std::string>& args) {
  std::vector<internal::ArgToken> tokens;
  tokens.reserve(args.size());
  for (const std::string& a : args) tokens.push_back({a, 0});
  absl::StatusOr<internal::ScannedArgs> scanned =
      internal::ScanSubmitArgs(tokens, /*allow_positional=*/true);
  if (!scanned.ok()) return scanned.status();
  absl::StatusOr<SubmitFlags> flags = internal::ApplyScannedOptions(*scanned);
  if (!flags.ok()) return flags.status();
  if (scanned->first_positional.has_value()) {
    const size_t first = *scanned->first_positional;
    flags->script = args[first];
    flags->script_args.assign(args.begin() + static_cast<std::ptrdiff_t>(first) + 1, args.end());
  }
  return flags;
}

}  // namespace drocc::client
