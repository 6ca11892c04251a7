"""General English and computing vocabulary: irregular word forms, multi-word expressions and near-synonyms.

Nothing here is about a particular docs tree.  The lists hold what any English thesaurus or computing glossary
says: "shut down" ~ "turn off" ~ "stop", "folder" ~ "directory", "ran" -> "run", "sla" ~ "service level
agreement".  They are used in two ways:

- multi-word expressions ("shut down", "log in", "get rid of") become one term, in the docs and in questions,
  so "turn off" can meet "shut down" without "turn" and "off" matching on their own;
- a question term also looks for its near-synonyms, at a reduced weight (see ``ranker.SYNONYM_WEIGHT``).

Lines of ``_GROUPS`` are sets of interchangeable expressions separated by ``|``.  Lines of ``_BROADER`` read
``narrow | narrow -> broad | broad``: the narrow words also look for the broad ones, not the other way round (a
question about "students" may be answered by a section about "users", but not every section about users is
about students).
"""

from __future__ import annotations

__all__ = ["BROADER", "GROUPS", "IRREGULAR"]

# Irregular inflections the Snowball stemmer cannot undo, mapped to the base form it does handle.
_IRREGULAR = """
    ran:run went:go gone:go broke:break broken:break chose:choose chosen:choose took:take taken:take gave:give
    given:give wrote:write written:write froze:freeze frozen:freeze built:build sent:send lost:lose spent:spend
    paid:pay made:make found:find kept:keep began:begin begun:begin knew:know known:know saw:see seen:see
    thought:think told:tell said:say felt:feel held:hold brought:bring bought:buy caught:catch taught:teach
    understood:understand forgot:forget forgotten:forget hid:hide hidden:hide drove:drive driven:drive
    rose:rise risen:rise shook:shake shaken:shake stole:steal stolen:steal spoke:speak spoken:speak woke:wake
    woken:wake wore:wear worn:wear tore:tear torn:tear threw:throw thrown:throw grew:grow grown:grow drew:draw
    drawn:draw flew:fly flown:fly blew:blow blown:blow hung:hang stuck:stick struck:strike dug:dig fed:feed
    led:lead met:meet shot:shoot sat:sit slept:sleep stood:stand swept:sweep won:win wound:wind sold:sell
    left:leave meant:mean bent:bend lent:lend rebuilt:rebuild overwrote:overwrite overwritten:overwrite
    rewrote:rewrite rewritten:rewrite undid:undo undone:undo withdrew:withdraw withdrawn:withdraw
    children:child men:man women:woman mice:mouse feet:foot teeth:tooth geese:goose indices:index
    matrices:matrix vertices:vertex analyses:analysis criteria:criterion phenomena:phenomenon
    better:good best:good worse:bad worst:bad
"""
IRREGULAR: dict[str, str] = dict(pair.split(":", 1) for pair in _IRREGULAR.split())

# Interchangeable expressions (general English, general computing and cloud vocabulary).
_GROUPS = """
    stop | shut down | shutdown | turn off | switch off | power off | kill | terminate | halt
    start | launch | spin up | boot | turn on | switch on | power on | fire up
    restart | reboot | relaunch
    delete | remove | erase | get rid of | wipe | purge | rm
    uninstall | tear down | teardown | remove | delete
    cancel | end | terminate | discontinue | quit
    install | set up | setup
    configure | configuration | config | settings
    change | modify | alter | adjust | edit
    update | upgrade
    download | export
    upload | import
    copy | duplicate
    move | transfer | migrate
    find | locate | search | look up | lookup
    view | see | show | display | inspect
    access | get into | log into | login to
    log in | login | sign in | signin | log on | logon | authenticate
    log out | logout | sign out | signout | log off
    sign up | signup | register | registration | enroll
    allow | permit | enable | grant
    disable | deactivate | turn off | switch off
    block | restrict | prevent | forbid | deny | ban
    limit | quota | cap | allowance
    increase | raise | bump | expand | enlarge | grow
    decrease | reduce | lower | shrink
    fix | solve | resolve | repair | troubleshoot | debug
    error | failure | fail | crash | exception | broken | break | bug | problem | issue
    choose | select | pick | opt
    run | execute
    slow | sluggish | lag | latency | performance
    pay | payment | bill | billing | invoice | charge | cost | price | pricing | money | spend | fee | expense
    cheap | inexpensive | affordable
    guarantee | promise | commitment
    uptime | availability | reliability | downtime | outage
    sla | service level agreement | service level
    help | support | assistance
    password | passphrase | passcode
    admin | administrator
    folder | directory | dir
    home folder | home directory | homedir | home dir
    disk | storage | volume | drive
    memory | ram
    cpu | processor
    gpu | graphics card
    vm | virtual machine | instance | node
    computer | laptop | pc | workstation
    internet | online | web
    website | site | web page | webpage
    url | link | address
    browser | web browser
    env | environment
    package | library | dependency | dependencies | module
    version | release
    pin | freeze | lock
    spreadsheet | csv | excel | xlsx
    repo | repository
    docs | documentation | manual
    example | sample | demo
    tutorial | walkthrough
    k8s | kubernetes
    gcp | google cloud | google cloud platform
    aws | amazon web services
    terminal | shell | command line | console | cli
    https | ssl | tls
    email | e-mail | mail
    notify | notification | alert
    timeout | time out | time limit
    idle | inactive | inactivity | unused
    automatic | automatically | auto
    yearly | annual | annually | every year
    monthly | every month
    weekly | every week
    daily | every day
    big | large | huge
    small | tiny
    fast | quick | quickly | speed up
    new | latest | newer | recent | newest
    old | older | previous | outdated
    organization | organisation | org
    team | group
    private | personal
    public | shared
    secret | credential | credentials
    permanent | permanently | persistent
    temporary | temporarily | ephemeral
"""

# One rule a line: narrow | narrow -> broad | broad
_BROADER = """
    student | learner | people | person | everyone | everybody | member | participant | researcher -> user
    bigger | larger | biggest | largest | big | large | huge | smaller | smallest | small | tiny -> size
    ram | memory | cpu | gpu -> resource
    machine | vm | virtual machine -> server | node
    crash | hang | stuck | freeze -> error
"""


def _members(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|") if part.strip())


GROUPS: list[tuple[str, ...]] = [m for m in (_members(line) for line in _GROUPS.strip().splitlines()) if len(m) > 1]
BROADER: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (_members(narrow), _members(broad))
    for narrow, _, broad in (line.partition("->") for line in _BROADER.strip().splitlines())
]
