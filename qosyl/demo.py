"""Demo data for `flask seed`: people, friendships, rooms with chat, posts and reactions.

One random.Random drives everything, so a seed always gives the same demo (only the
random file names of the images differ). The rows of each table are written in time
order, so "newest first" by id and by time agree.
"""

from __future__ import annotations

import bisect
import colorsys
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from functools import cache
from io import BytesIO
from typing import Any
from typing import TypeVar

from flask import current_app
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont
from sqlalchemy import func
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.live.oncommit import on_rollback
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import Follow
from qosyl.models import FriendRequest
from qosyl.models import Friendship
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import Topic
from qosyl.models import User
from qosyl.passwords import hash_password
from qosyl.render import media

T = TypeVar("T")
Progress = Callable[[Iterable[Any], str], AbstractContextManager[Iterable[Any]]]

HISTORY = timedelta(days=60)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

AVATAR_SIZE = 256
COVER_SIZE = (1500, 500)
POST_IMAGE_SIZE = (1024, 768)

# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

# (first name, last name, city, ISO country code). The first is the demo login.
PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    ("Aigerim", "Sadykova", "Almaty", "KZ"),
    ("Dias", "Akhmetov", "Astana", "KZ"),
    ("Madina", "Zhunusova", "Almaty", "KZ"),
    ("Arman", "Ospanov", "Shymkent", "KZ"),
    ("Dana", "Tulegenova", "Karaganda", "KZ"),
    ("Yerlan", "Serikbayev", "Astana", "KZ"),
    ("Aruzhan", "Kassymova", "Almaty", "KZ"),
    ("Nurlan", "Baimukhanov", "Aktobe", "KZ"),
    ("Zhanna", "Omarova", "Pavlodar", "KZ"),
    ("Timur", "Iskakov", "Oskemen", "KZ"),
    ("Saule", "Abenova", "Atyrau", "KZ"),
    ("Askar", "Zhakupov", "Taraz", "KZ"),
    ("Dilnaz", "Yermekova", "Kostanay", "KZ"),
    ("Bauyrzhan", "Mukanov", "Turkistan", "KZ"),
    ("Kamila", "Utepova", "Aktau", "KZ"),
    ("Alibek", "Nurpeisov", "Semey", "KZ"),
    ("Togzhan", "Seitkali", "Almaty", "KZ"),
    ("Sanzhar", "Dzhaksybekov", "Astana", "KZ"),
    ("Jamshid", "Karimov", "Tashkent", "UZ"),
    ("Aizada", "Toktogulova", "Bishkek", "KG"),
    ("Bat-Erdene", "Gansukh", "Ulaanbaatar", "MN"),
    ("Rustam", "Nazarov", "Dushanbe", "TJ"),
    ("Olga", "Kuznetsova", "Novosibirsk", "RU"),
    ("Nino", "Beridze", "Tbilisi", "GE"),
    ("Emre", "Yıldız", "Istanbul", "TR"),
    ("Priya", "Raman", "Bengaluru", "IN"),
    ("Arjun", "Mehta", "Pune", "IN"),
    ("Wei", "Zhang", "Shenzhen", "CN"),
    ("Mei", "Lin", "Taipei", "TW"),
    ("Yuki", "Tanaka", "Osaka", "JP"),
    ("Ji-woo", "Park", "Seoul", "KR"),
    ("Linh", "Nguyen", "Hanoi", "VN"),
    ("Putri", "Wulandari", "Yogyakarta", "ID"),
    ("Paolo", "Reyes", "Cebu", "PH"),
    ("Chiamaka", "Okafor", "Lagos", "NG"),
    ("Kwame", "Mensah", "Accra", "GH"),
    ("Wanjiru", "Kamau", "Nairobi", "KE"),
    ("Youssef", "El-Sayed", "Cairo", "EG"),
    ("Leila", "Ahmadi", "Shiraz", "IR"),
    ("Fatima", "Benali", "Casablanca", "MA"),
    ("Lucas", "Oliveira", "São Paulo", "BR"),
    ("Valentina", "Rojas", "Santiago", "CL"),
    ("Diego", "Hernández", "Guadalajara", "MX"),
    ("Sofía", "Martínez", "Valencia", "ES"),
    ("Pedro", "Alves", "Lisbon", "PT"),
    ("Camille", "Dubois", "Lyon", "FR"),
    ("Jonas", "Becker", "Leipzig", "DE"),
    ("Zofia", "Nowak", "Kraków", "PL"),
    ("Oksana", "Bondarenko", "Lviv", "UA"),
    ("Ana", "Kovač", "Zagreb", "HR"),
    ("Giulia", "Romano", "Bologna", "IT"),
    ("Erik", "Lindqvist", "Gothenburg", "SE"),
    ("Ingrid", "Hansen", "Bergen", "NO"),
    ("Siobhan", "Murphy", "Galway", "IE"),
    ("Tom", "Fletcher", "Manchester", "GB"),
    ("Hannah", "Goldberg", "Chicago", "US"),
    ("Marcus", "Johnson", "Atlanta", "US"),
    ("Emily", "Chen", "Vancouver", "CA"),
    ("Noah", "Williams", "Melbourne", "AU"),
    ("Aroha", "Ngata", "Wellington", "NZ"),
)

# The demo login gets fixed interests, so the README's tour finds her in these rooms.
FIRST_INTERESTS = ("Python", "Design", "Travel")

TOPICS = (
    "Python",
    "JavaScript",
    "Music",
    "Football",
    "Books",
    "Photography",
    "Cooking",
    "Travel",
    "Gaming",
    "Design",
)
GENERAL = "General"

# How an interest reads inside a sentence ("I'm into music and travel").
INTEREST_WORDS = {
    "Python": "Python",
    "JavaScript": "JavaScript",
    "Music": "music",
    "Football": "football",
    "Books": "books",
    "Photography": "photography",
    "Cooking": "cooking",
    "Travel": "travel",
    "Gaming": "games",
    "Design": "design",
}

ROLES_BY_TOPIC: dict[str, tuple[str, ...]] = {
    "Python": (
        "backend developer",
        "data analyst",
        "machine learning engineer",
        "computer science student",
        "site reliability engineer",
        "IT teacher",
    ),
    "JavaScript": (
        "frontend engineer",
        "full-stack developer",
        "mobile developer",
        "QA engineer",
        "web developer",
    ),
    "Design": ("product designer", "UI designer", "graphic designer", "architect"),
    "Photography": ("freelance photographer", "journalist", "videographer"),
    "Music": ("music teacher", "sound engineer", "piano tuner"),
    "Cooking": ("chef", "pastry cook", "food blogger"),
}
OTHER_ROLES = (
    "English teacher",
    "nurse",
    "translator",
    "accountant",
    "marketing manager",
    "civil engineer",
    "medical student",
    "barista",
    "product manager",
    "veterinarian",
    "librarian",
    "logistics coordinator",
    "physiotherapist",
    "history student",
)

BIO_LINES: dict[str, tuple[str, ...]] = {
    "Python": (
        "Happiest with a Python shell open.",
        "Type hints enthusiast.",
        "Probably refactoring something right now.",
    ),
    "JavaScript": (
        "Builds things for the browser.",
        "CSS is my love language.",
        "Ask me about TypeScript generics.",
    ),
    "Music": (
        "Plays the dombra badly and the guitar a little better.",
        "Always hunting for new records.",
        "Sings in a community choir.",
    ),
    "Football": (
        "Never misses a matchday.",
        "Sunday league left-back.",
        "Football tactics nerd.",
    ),
    "Books": (
        "Always has a paperback in the bag.",
        "Book club organiser.",
        "Reading my way through the classics.",
    ),
    "Photography": (
        "Chasing golden hour with an old film camera.",
        "Street photography on weekends.",
        "Shoots mountains and markets.",
    ),
    "Cooking": (
        "Home cook who never measures anything.",
        "Learning to bake sourdough.",
        "Collects family recipes.",
    ),
    "Travel": (
        "Trains over planes when I can.",
        "Planning the next trip to the mountains.",
        "Collects train tickets and stories.",
    ),
    "Gaming": (
        "Co-op games and cosy RPGs.",
        "Board games on Fridays.",
        "Speedruns when nobody is watching.",
    ),
    "Design": (
        "Pixels, type and white space.",
        "Designing calm interfaces.",
        "Sketchbook always open.",
    ),
}

ABOUT_LINES: dict[str, tuple[str, ...]] = {
    "Python": (
        "I've been writing Python for {years} years, mostly small tools that save someone "
        "an hour a week.",
        "Python got me into programming, and I still enjoy its simplest parts the most: "
        "a clean function and a good test.",
    ),
    "JavaScript": (
        "On the web side I build interfaces with plain JavaScript and TypeScript, and I care "
        "a lot about pages that load fast.",
        "I love the browser as a platform: you write something and anyone can open it "
        "a second later.",
    ),
    "Music": (
        "Music is how I switch off: I play a little dombra and guitar, and I sing in a "
        "community choir.",
        "I spend far too much time making playlists and not enough practising my instrument.",
    ),
    "Football": (
        "Weekends are for football: watching it, arguing about it and playing five-a-side "
        "badly but happily.",
        "I follow my local club through thick and thin, mostly thin.",
    ),
    "Books": (
        "I read a bit of everything, from Kazakh classics to science fiction, and I help run "
        "a small book club.",
        "My to-read pile is taller than I am, and I keep adding to it.",
    ),
    "Photography": (
        "I photograph markets, mountains and the people of my city, on film when I can afford it.",
        "Photography taught me to notice light, and now I can't stop noticing it.",
    ),
    "Cooking": (
        "In the kitchen I'm learning my grandmother's recipes before they're lost, one dish "
        "at a time.",
        "I cook to relax, and nothing makes me happier than feeding a table full of friends.",
    ),
    "Travel": (
        "I travel slowly: trains, long walks and conversations with strangers.",
        "Every year I try to see one place I have never been, near or far.",
    ),
    "Gaming": (
        "I play cosy co-op games with friends and host a board game night most Fridays.",
        "Games are my favourite way to keep in touch with friends who live far away.",
    ),
    "Design": (
        "I design interfaces and care about typography, calm layouts and the tiny details "
        "nobody notices until they're wrong.",
        "For me good design is mostly removing things until only the useful part is left.",
    ),
}

ABOUT_CLOSERS = (
    "Always happy to meet new people, so say hi!",
    "Send me a friend request if we share an interest.",
    "Ask me for recommendations any time.",
    "You'll usually find me in the rooms in the evenings.",
)

# ---------------------------------------------------------------------------
# Rooms and their chat
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomPlan:
    name: str
    topic: str
    description: str
    opening: str  # the host's first message


LOBBY = RoomPlan(
    "Lobby",
    GENERAL,
    "The open room for everyone on Qosyl: say hello, ask where to find people, or just chat.",
    "Welcome to Qosyl, everyone! 👋 Introduce yourself here: where you're from and what "
    "you're into.",
)

ROOMS: tuple[RoomPlan, ...] = (
    RoomPlan(
        "Python help desk",
        "Python",
        "Stuck on a traceback or a tricky bit of Python? Ask here. Beginners are very "
        "welcome, and no question is too small.",
        "Welcome to the Python help desk! 🐍 Ask anything, paste your code in a fenced "
        "block and somebody will take a look.",
    ),
    RoomPlan(
        "Flask & Django corner",
        "Python",
        "Web development in Python: routing, ORMs, migrations, deployment and the bugs that "
        "only happen in production.",
        "Hi all! This room is for Python web dev talk. Flask, Django, FastAPI: all welcome.",
    ),
    RoomPlan(
        "Frontend Friday",
        "JavaScript",
        "JavaScript, TypeScript, CSS and everything else that runs in the browser. Show what "
        "you built this week.",
        "Welcome! Share what you're building. The weirder the CSS bug, the better. 😄",
    ),
    RoomPlan(
        "Dombra & guitars",
        "Music",
        "For people who play, or want to: dombra, guitar, piano, voice. Practice tips, song "
        "ideas and little recordings.",
        "Hello, musicians! 🎶 Tell us what you play and what you're learning right now.",
    ),
    RoomPlan(
        "Late-night playlists",
        "Music",
        "What are you listening to? New releases, old records, film scores and songs in "
        "languages you don't speak.",
        "Drop a song that's been on repeat for you this week 🎧",
    ),
    RoomPlan(
        "Matchday",
        "Football",
        "Live match talk, five-a-side plans and friendly arguments about tactics. Be kind "
        "to the referee. Mostly.",
        "Welcome to Matchday ⚽ Predictions for the weekend?",
    ),
    RoomPlan(
        "Slow readers club",
        "Books",
        "A book club without deadlines: one shared book a month, plus whatever else you "
        "happen to be reading.",
        "Welcome, readers! 📚 Next month's book is up for a vote, suggestions welcome.",
    ),
    RoomPlan(
        "Golden hour",
        "Photography",
        "Photo walks, gear questions, film and digital. Post your favourite shots and ask "
        "for honest critique.",
        "Hello, photographers! 📷 Share a shot you're proud of to say hi.",
    ),
    RoomPlan(
        "Steppe kitchen",
        "Cooking",
        "Home cooking from Kazakhstan and everywhere else: family recipes, baking "
        "experiments and kitchen disasters.",
        "Welcome to the Steppe kitchen! 🍲 What did you cook this week?",
    ),
    RoomPlan(
        "Trains and trails",
        "Travel",
        "Travel tips, hiking plans and trip reports, from a weekend in the mountains to a "
        "month on the road.",
        "Hi, travellers! 🧭 Where are you off to next?",
    ),
    RoomPlan(
        "Co-op night",
        "Gaming",
        "Friends who play together: co-op games, board games and a weekly game night. "
        "Friendly players only.",
        "Welcome to Co-op night! 🎮 We play on Fridays, every skill level is welcome.",
    ),
    RoomPlan(
        "Pixel critique",
        "Design",
        "Share your interfaces, posters and logos for kind but honest feedback. Typography "
        "nerds especially welcome.",
        "Welcome! Post your work with a line on what kind of feedback you'd like. ✏️",
    ),
)


class Opener(str):
    """A chat line said by whoever started the conversation ("Thanks, both!")."""

    __slots__ = ()


# Short conversations: each line by a new voice, unless it is an Opener.
CHAT: dict[str, tuple[tuple[str, ...], ...]] = {
    "Python": (
        (
            "Anyone using `match` statements in production yet?",
            "We do, for parsing webhook payloads. Much nicer than a wall of if/elif.",
            "Just remember that a bare name in a `case` *captures*, it doesn't compare. "
            "Bit me once.",
            "Dotted names like `Status.OK` compare. Learned that the hard way too 😅",
        ),
        (
            "Quick one: how do I flatten a list of lists without numpy?",
            "```python\nflat = [item for row in rows for item in row]\n```",
            "Or `list(itertools.chain.from_iterable(rows))` if it's huge.",
            Opener("Thanks, the comprehension reads fine for my case"),
        ),
        (
            "Today I learned `functools.cache` exists. I've been writing my own dict caches "
            "for years.",
            "Wait until you find `cached_property` 😄\n\n"
            "```python\n"
            "from functools import cached_property\n"
            "\n"
            "class Report:\n"
            "    @cached_property\n"
            "    def totals(self) -> dict[str, int]:\n"
            "        return expensive_sum(self.rows)\n"
            "```",
            Opener("Oh that's neat. Computed once per instance?"),
            "Exactly, then it's just an attribute.",
        ),
        (
            "Why does my default argument keep growing between calls?",
            "Mutable default! Classic.\n\n"
            "```python\n"
            "def add(item, bucket=None):\n"
            "    if bucket is None:\n"
            "        bucket = []\n"
            "    bucket.append(item)\n"
            "    return bucket\n"
            "```",
            Opener("Three hours on this. Thank you 🙏"),
        ),
        (
            "uv or pip + venv these days?",
            "uv for everything new. The speed is silly.",
            "Still plain venv at work, the CI images are old",
            "Fair. Both read pyproject.toml anyway, so switching later is cheap.",
        ),
        (
            "Is anyone up for a small Python meetup next month?",
            "I'm in! I could do a ten-minute talk on pytest fixtures",
            "Count me in, I can bring the projector from the office",
            Opener("Let's write a post about it so people outside the room see it too"),
        ),
        (
            "Pro tip: `python -X importtime app.py` shows which import makes startup slow.",
            "Nice. pandas was half of our CLI start time",
            "Import it inside the function that needs it and the problem is gone",
        ),
        (
            "f-string debugging is my favourite tiny feature:\n\n"
            "```python\n"
            "user_id = 42\n"
            'print(f"{user_id=}")  # user_id=42\n'
            "```",
            "I didn't know about the `=`! Nice",
        ),
        (
            "Code review question: dataclass or NamedTuple for a small immutable record?",
            "`@dataclass(frozen=True, slots=True)` for me. Clearer errors, easy to add methods.",
            "NamedTuple only if it really has to unpack like a tuple",
        ),
        (
            "Flask or FastAPI for a small internal tool?",
            "Flask, if it's mostly server-rendered pages. htmx covers the interactive bits.",
            "FastAPI if it's a pure JSON API for a mobile app",
            Opener("Server-rendered it is. Thanks, both!"),
        ),
        (
            "My SQLAlchemy list page runs 51 queries for 50 rows 🙃",
            "N+1! Load the authors with the posts:\n\n"
            "```python\n"
            "stmt = select(Post).options(joinedload(Post.author)).limit(50)\n"
            "```",
            Opener("Down to one query. Beautiful."),
        ),
        (
            "How do you structure Flask apps once they grow?",
            "App factory, a blueprint per area, and the business logic in plain functions "
            "outside the views.",
            "Same. Views parse the form, call an action, render. Tests get much easier.",
        ),
        (
            "Deployed on a Friday. Nothing broke. Suspicious.",
            "Check again on Monday 😂",
            "The logs are too quiet... 👀",
        ),
    ),
    "JavaScript": (
        (
            "Is anyone still writing jQuery at work?",
            "Legacy admin panel, yes. It works and nobody wants to touch it.",
            "Honestly `querySelector` and `fetch` replaced 90% of what I used it for",
        ),
        (
            "TIL optional chaining works on function calls too:\n\n"
            "```js\n"
            'const name = user?.profile?.displayName?.() ?? "Anonymous";\n'
            "```",
            "`??` is so much better than `||` for defaults. No more losing `0`.",
        ),
        (
            "What's the cleanest way to debounce an input without a library?",
            "```js\n"
            "function debounce(fn, ms = 300) {\n"
            "  let timer;\n"
            "  return (...args) => {\n"
            "    clearTimeout(timer);\n"
            "    timer = setTimeout(() => fn(...args), ms);\n"
            "  };\n"
            "}\n"
            "```",
            Opener("Perfect, exactly what I needed 🙌"),
        ),
        (
            "CSS `:has()` works everywhere now. Parent selectors, people!",
            "I just deleted 40 lines of JS that toggled a class on a parent 🎉",
            "Container queries next, please",
        ),
        (
            "TypeScript strict mode: on from day one, or later?",
            "Day one. Turning it on later means a week of fixing `any`s.",
            "Agreed. Strict from the start, and `unknown` instead of `any` at the edges.",
        ),
        (
            "My bundle is 2 MB and I have no idea why",
            "Run the bundle analyser. It's always a date library or an icon pack.",
            Opener("It was the icon pack. The whole set, for six icons 🤦"),
        ),
        (
            "`Promise.all` or `Promise.allSettled` for a dashboard?",
            "`all` fails on the first rejection, `allSettled` waits and reports every result",
            Opener("allSettled then. One broken widget shouldn't blank the whole page."),
        ),
        (
            "Does anyone have a good pattern for form validation without a framework?",
            "The browser's built-in validation goes a long way: `required`, `pattern`, "
            "`type=email`, then `setCustomValidity` for the rest",
            "And always validate on the server too, of course",
        ),
        (
            "Safari bug of the week: `position: sticky` inside a flex container 🙃",
            "`align-self: flex-start` on the sticky element usually fixes it",
            Opener("That did it. I owe you a coffee ☕"),
        ),
    ),
    "Music": (
        (
            "Who's listening to what this week?",
            "Old Soviet jazz records from the flea market. Crackly and perfect.",
            "A film soundtrack on repeat while I work",
            Opener("Making a shared playlist, drop your tracks in here 👇"),
        ),
        (
            "Finally learned the opening of Kurmangazy's «Adai» on the dombra!",
            "That's a tough one, the right hand is so fast",
            "Record it! We want to hear it 🎶",
        ),
        (
            "Any tips for practising with a metronome without going crazy?",
            "Start at half speed and only go up 5 bpm when it feels boring",
            "Practise the hard bar on its own, not the whole piece every time",
        ),
        (
            "Vinyl or streaming?",
            "Streaming to discover, vinyl for the albums I love",
            "Cassettes. I'm serious. 📼",
        ),
        (
            "Concert in the park on Saturday, anyone going?",
            "Yes! Meet by the fountain at six?",
            "I'll bring a blanket and a flask of tea",
        ),
        (
            "What do you play when you need to focus?",
            "Anything instrumental. Piano, mostly.",
            "Film scores. They make spreadsheets feel epic 😂",
        ),
        (
            "Our choir is looking for tenors. Any tenors here?",
            "I'm more of a shower baritone, sorry",
            "I might know someone, I'll ask him tonight",
        ),
        (
            "Guitar strings: how often do you change them?",
            "When they stop sounding bright, so every couple of months",
            "When one breaks. I'm not proud of it.",
        ),
    ),
    "Football": (
        (
            "What a finish last night ⚽",
            "That volley in the 89th minute 🤯",
            "Missed it because of work, no spoilers for an hour please!",
            "Too late, sorry 😅",
        ),
        (
            "Kairat or Astana this season?",
            "Kairat, always.",
            "Astana's midfield is too good this year",
            Opener("Let's settle it at five-a-side on Sunday"),
        ),
        (
            "Five-a-side on Sunday at 10, we need two more players",
            "I'm in, but goalkeeper only. My knees are done.",
            "Count me in 🙋",
        ),
        (
            "Is the back three coming back into fashion, or is it just my team?",
            "It comes and goes. You need wing-backs who can actually run.",
            "Our coach loves it because we have no wingers 🙃",
        ),
        (
            "VAR took four minutes to check an offside by a shoelace",
            "The celebration was long over by the time they decided",
            "Still better than a blatant miss, honestly",
        ),
        (
            "Fantasy league update: I'm last. Again.",
            "Captaining a defender was a bold choice",
            "There's always next gameweek 😄",
        ),
        (
            "Anyone watching the national team on Tuesday?",
            "Yes, at the café on the corner, the big screen is back",
            "Save me a seat!",
        ),
    ),
    "Books": (
        (
            "What's everyone reading this month?",
            "«The Path of Abai» by Mukhtar Auezov. Slow going, but beautiful.",
            "Ursula K. Le Guin's «The Dispossessed»",
            Opener("Adding both to my list"),
        ),
        (
            "Paper or e-reader?",
            "E-reader on the bus, paper at home",
            "Paper. I like watching the bookmark move 📖",
        ),
        (
            "Next month we're choosing between a classic and something new",
            "Something new, please. We did three classics in a row.",
            "Let's vote in a post, more people will see it",
        ),
        (
            "I abandoned a book halfway for the first time ever and I feel guilty",
            "Life's too short for books you don't enjoy!",
            "Which one? Maybe it gets better 👀",
        ),
        (
            "Favourite short story collection?",
            "Chekhov, any of them",
            "Borges's «Ficciones». It breaks my brain in a good way.",
        ),
        (
            "Does anyone else read the last page first?",
            "Chaos. Absolute chaos.",
            "Only for mysteries. I need to know it's worth it 😂",
        ),
        (
            "Audiobooks count as reading. Fight me.",
            "They count! I get through twice as many books on my commute",
            "Agreed, as long as the narrator is good",
        ),
    ),
    "Photography": (
        (
            "Golden hour at Big Almaty Lake yesterday was unreal",
            "Jealous! Which lens did you take?",
            Opener("Just a 35mm. Walked a lot instead of zooming 😄"),
        ),
        (
            "Film or digital for street photography?",
            "Digital to learn, film to slow down",
            "Film, because I can't check the screen after every shot",
        ),
        (
            "Any tips for shooting in snow? Everything comes out grey",
            "Dial in +1 exposure compensation. The meter thinks the snow should be grey.",
            "And shoot RAW so you can fix the white balance later",
        ),
        (
            "Photo walk on Saturday morning in the old town, 9am. Who's coming?",
            "Me! I'll bring my new old Zenit",
            "In. Coffee first though ☕",
        ),
        (
            "How do you organise thousands of photos?",
            "Folders by year and month, and I star the best ones the same evening",
            "Ruthless deleting. 90% go.",
        ),
        (
            "Is the rule of thirds overrated?",
            "It's a starting point, not a rule",
            "Centred compositions can be really strong when there's symmetry",
        ),
        (
            "Which film stock for winter light?",
            "Portra 400, it handles the contrast nicely",
            "Black and white. Winter was made for it.",
        ),
    ),
    "Cooking": (
        (
            "Made beshbarmak for twelve people yesterday, I'm still full",
            "Horse meat or lamb?",
            Opener("Both! My grandmother's recipe, with the dough rolled by hand"),
            "Recipe post please 🙏",
        ),
        (
            "How do you keep baursaks fluffy?",
            "Warm milk, and let the dough rest properly. At least an hour.",
            "And the oil must be hot enough, otherwise they soak it up",
        ),
        (
            "Sourdough starter update: it's alive!",
            "Name it. Every starter needs a name.",
            Opener("Meet Bread Pitt 🍞"),
        ),
        (
            "What's your quick weeknight dinner?",
            "Lagman noodles from the freezer and whatever vegetables are left",
            "Shakshuka. Eggs, tomatoes, 15 minutes.",
        ),
        (
            "Is cast iron worth the fuss?",
            "Yes. Once it's seasoned it's basically non-stick.",
            "Just never leave it wet. Ask me how I know 😅",
        ),
        (
            "How do you take your tea?",
            "Strong black tea with milk, and the host keeps the cup half full so they can "
            "keep pouring",
            Opener("That's lovely, I didn't know that tradition!"),
        ),
        (
            "Plov question: do you stir the rice after it goes in?",
            "Never! You just make little holes so the steam gets out",
            "My uncle would disown me if I stirred it 😂",
        ),
    ),
    "Travel": (
        (
            "Charyn Canyon this weekend, has anyone been recently?",
            "Yes, the road is fine now. Bring more water than you think.",
            "Go early, it gets hot by noon",
            Opener("Thanks! Leaving at six, then"),
        ),
        (
            "Night train or plane between Almaty and Astana?",
            "Train if you're not in a hurry. It's an experience.",
            "Plane. I love trains, but the slow one takes most of a day 😅",
        ),
        (
            "Best travel tip you ever got?",
            "Pack half the clothes and twice the money",
            "Learn to say thank you in the local language. It opens every door.",
        ),
        (
            "Looking for a hiking buddy for Kok-Zhailau next weekend",
            "I'm up for it if the weather holds",
            "Take poles, the descent is steep",
        ),
        (
            "Hostels or apartments?",
            "Hostels when I'm solo, you meet people",
            "Apartments with friends, so we can cook",
        ),
        (
            "Just landed in Tbilisi, what should I eat first?",
            "Khachapuri, obviously",
            "Khinkali! Hold them by the knot and don't eat the knot 😄",
        ),
        (
            "Window or aisle?",
            "Window. I will look at clouds for six hours.",
            "Aisle, I need to stretch my legs",
        ),
    ),
    "Gaming": (
        (
            "Co-op night on Friday, what are we playing?",
            "Something where I can't betray anyone this time",
            "Farming game then. Nobody gets betrayed on the farm.",
            "Said nobody who's seen my parsnip prices 😂",
        ),
        (
            "Controller or keyboard for platformers?",
            "Controller, no question",
            "Keyboard. I'm a rebel.",
        ),
        (
            "Finally beat the final boss after 40 tries",
            "Congrats! Which one?",
            Opener("The one everybody warned me about. My hands are still shaking."),
        ),
        (
            "Board game recommendations for five people?",
            "Codenames, easy to explain",
            "Catan, if you want to lose some friends 😄",
        ),
        (
            "Does anyone still play on a handheld?",
            "Every day on the bus",
            "Mine basically lives in my bag",
        ),
        (
            "Patch notes are out and my main got nerfed",
            "Time to find a new main 🙃",
            "Or be the last one playing it. That's the real flex.",
        ),
        (
            "Who's hosting the server this week?",
            "I can, my internet is finally fixed",
            Opener("Legend. I'll bring the snacks."),
        ),
    ),
    "Design": (
        (
            "Critique please: does this onboarding screen feel too busy?",
            "Too many colours fighting for attention. Pick one accent.",
            "The body text needs more line height, it feels cramped",
            Opener("Thanks, both fair. Round two tomorrow."),
        ),
        (
            "Favourite free font for interfaces?",
            "Inter. Boring answer, but it works everywhere.",
            "IBM Plex Sans if you want a bit more character",
        ),
        (
            "How do you convince developers that 4px matters?",
            "Design tokens. Once spacing is a variable, nobody argues about pixels.",
            "Pair with them for an hour. It's always easier side by side.",
        ),
        (
            "Dark mode: pure black or dark grey?",
            "Dark grey. Pure black smears on some OLED screens when you scroll.",
            "And soften the text a little, pure white on black is harsh",
        ),
        (
            "Designing a logo for a friend's café and trying to work in a steppe motif",
            "A single line for the horizon could be enough",
            "Look at traditional Kazakh ornaments, the ram's horn shapes are beautiful",
        ),
        (
            "Auto layout finally clicked for me",
            "Welcome to the other side 😄",
            "Now nest it five levels deep and suffer",
        ),
        (
            "Is anyone doing accessibility audits on their designs?",
            "Contrast checks on every palette, and I test with the keyboard only",
            "Same. Focus states are design too!",
        ),
    ),
    GENERAL: (
        (
            "Hi all! Frontend dev here, mostly came for the design room",
            "Welcome! The Pixel critique folks are lovely",
            "Hello from Lagos! Here for the books and the football banter",
        ),
        (
            "Good morning ☀️ What's everyone up to today?",
            "Coffee first, then a long list of bugs",
            "Exam in two hours, wish me luck 🙏",
            "Good luck!! You've got this",
        ),
        (
            "Qosyl means «join» in Kazakh, by the way. Fitting name.",
            "Oh, I didn't know that. I love it",
            "Rakhmet for explaining 🙂",
        ),
        (
            "Which room should I join first?",
            "Depends what you're into. The Python help desk is super friendly.",
            "Co-op night if you like games. We're fun, I promise.",
        ),
        (
            "Anyone else working late tonight?",
            "Always 🌙",
            "Deadline tomorrow, so yes",
        ),
        (
            "How do you all find people to follow here?",
            "I look at who's active in the rooms I like",
            "Hashtags on posts help too",
        ),
        (
            "What time is it where you are? It's almost midnight here",
            "Lunchtime here 🥪",
            "Early morning, first coffee in hand",
        ),
    ),
}

# One-liners that fit in any room, between the conversations.
SMALL_TALK = (
    "Morning, everyone 👋",
    "Haha, true",
    "Same here",
    "Good point.",
    "brb, coffee ☕",
    "That's a great idea",
    "Thanks for the tip!",
    "Welcome to the room 🙌",
    "I didn't know that",
    "Anyone around?",
    "Agreed 💯",
    "Ok, that made me laugh",
    "Saving this for later",
    "Back. What did I miss?",
    "Good night, everyone 🌙",
    "Nice one!",
    "Hmm, not sure about that",
    "Let's do it",
    "Exactly what I was thinking",
    "Happy Friday! 🎉",
    "Oh wow",
    "Had the same problem last week",
    "This room is the best part of my day",
    "Lurking, but reading everything 👀",
)

# ---------------------------------------------------------------------------
# Posts, comments and replies
# ---------------------------------------------------------------------------

# Placeholders: {first} {city} {role} {interest_a} {interest_b} {mention} {room}.
INTRO_POSTS = (
    "Hi everyone! 👋 I'm {first} from {city}. I'm into {interest_a} and {interest_b}, "
    "so say hi if you are too. #hello #newhere",
    "New on Qosyl! {role_title} by day, {interest_a} fan by night. Looking forward to "
    "meeting you all 🙌 #newhere",
    "Hello from {city}! I joined to find people who love {interest_a} as much as I do. "
    "Recommendations for rooms and people to follow are welcome. #hello",
)

POSTS: dict[str, tuple[str, ...]] = {
    "Python": (
        "Spent the evening replacing a 200-line `if/elif` chain with a dictionary of "
        "handlers. The tests still pass and I can finally read it.\n\n"
        "```python\n"
        "HANDLERS = {\n"
        '    "created": on_created,\n'
        '    "paid": on_paid,\n'
        '    "refunded": on_refunded,\n'
        "}\n"
        "\n"
        "def handle(event: dict) -> None:\n"
        '    HANDLERS[event["type"]](event)\n'
        "```\n\n"
        "#python #refactoring",
        "Small Python tip: `pathlib` makes file code so much nicer.\n\n"
        "```python\n"
        "from pathlib import Path\n"
        "\n"
        'for path in Path("photos").glob("*.jpg"):\n'
        "    print(path.stem, path.stat().st_size)\n"
        "```\n\n"
        "No more `os.path.join` soup. #python #tips",
        "Gave my first talk at a local meetup today: *pytest fixtures you didn't know you "
        "needed*. Nervous for five minutes, then it was fun. Thanks @{mention} for pushing "
        "me to do it! 🎤 #python #testing",
        "Hot take: type hints are documentation that the computer checks for you. "
        "I don't care if it's \"not Pythonic\". #python",
        "Today I learned about `itertools.batched` (Python 3.12+):\n\n"
        "```python\n"
        "from itertools import batched\n"
        "\n"
        "for chunk in batched(range(7), 3):\n"
        "    print(chunk)\n"
        "# (0, 1, 2)\n"
        "# (3, 4, 5)\n"
        "# (6,)\n"
        "```\n\n"
        "I've written this helper by hand at least five times. #python #til",
        "Debugging tip that saved my afternoon: `breakpoint()` drops you straight into pdb, "
        "and `PYTHONBREAKPOINT=0` switches every one of them off. #python #debugging",
        "Teaching my little brother Python with turtle graphics. He drew a star on the first "
        "try and is now convinced he's a hacker 😄 #python #teaching",
        "Weekend project: a tiny script that reads my bank's CSV export and tells me how much "
        "I spend on coffee. The answer was upsetting ☕📉\n\n"
        "```python\n"
        "import csv\n"
        "\n"
        'with open("statement.csv", newline="") as f:\n'
        "    coffee = sum(\n"
        '        float(row["amount"])\n'
        "        for row in csv.DictReader(f)\n"
        '        if "coffee" in row["description"].lower()\n'
        "    )\n"
        'print(f"{coffee:.2f}")\n'
        "```\n\n"
        "#python",
        "Reading other people's code is the fastest way I've found to get better. This "
        "week: the source of `requests`. Clean, and boring in the best way. #python #learning",
        "Pair-programmed with @{mention} on a flaky test today. It was a timezone bug, of "
        "course. Always store UTC, convert at the edges. #python #testing",
    ),
    "JavaScript": (
        "Finally understood event delegation. One listener on the list instead of one per "
        "item:\n\n"
        "```js\n"
        'list.addEventListener("click", (event) => {\n'
        '  const button = event.target.closest("button[data-id]");\n'
        "  if (button) removeItem(button.dataset.id);\n"
        "});\n"
        "```\n\n"
        "#javascript #webdev",
        "Shipped a page today with zero frameworks: plain HTML forms, a sprinkle of `fetch`, "
        "and it loads in 200 ms. Sometimes less really is more. #webdev",
        "`structuredClone()` is built into every modern browser. Deep copies without JSON "
        "tricks:\n\n"
        "```js\n"
        "const copy = structuredClone(original);\n"
        "```\n\n"
        "#javascript #til",
        "Accessibility check of the day: can you use your site with the keyboard alone? "
        "I tried mine. I could not. Fixing it this week. #a11y #webdev",
        "Hunted a race condition in our form autosave with @{mention}. The fix was three "
        "lines; finding it took two days. Classic. #javascript",
        "TypeScript tip: let the compiler check that a `switch` covers every case.\n\n"
        "```ts\n"
        'type Shape = { kind: "circle"; r: number } | { kind: "square"; side: number };\n'
        "\n"
        "function area(shape: Shape): number {\n"
        "  switch (shape.kind) {\n"
        '    case "circle":\n'
        "      return Math.PI * shape.r ** 2;\n"
        '    case "square":\n'
        "      return shape.side ** 2;\n"
        "    default: {\n"
        "      const unreachable: never = shape;\n"
        "      return unreachable;\n"
        "    }\n"
        "  }\n"
        "}\n"
        "```\n\n"
        "#typescript",
        "Dark mode for my portfolio in ten lines of CSS with `prefers-color-scheme` and "
        "custom properties. Why did I wait so long? #css #webdev",
        "Node tip: `node --watch server.js` restarts on every file change. One less dev "
        "dependency. #nodejs #javascript",
        "Rewrote our date formatting with `Intl.DateTimeFormat` and dropped a 70 KB "
        "library. The browser already knows every locale. #javascript #performance",
    ),
    "Music": (
        "Played the dombra in public for the first time tonight, at a friend's birthday. "
        "My hands were shaking, but everyone sang along to the last song 🎶 #music #dombra",
        "Found a box of old records at the flea market in {city} for almost nothing. Half "
        "are scratched, the other half are treasure. #vinyl #music",
        "Choir rehearsal tonight: the four-part harmony in the chorus finally clicked. "
        "There is no feeling like it. #music #choir",
        "Looking for recommendations: music that sounds like a long train ride through the "
        "steppe. Go! 🚂 #music #playlist",
        "Guitar practice log, day 30: I can switch between G and C without looking. Small "
        "wins 🎸 #music #practice",
        "Live music in {city} this weekend was incredible. Tiny venue, great sound, and the "
        "band played for two hours. Support your local musicians! #music #livemusic",
        "Unpopular opinion: albums are meant to be heard start to finish. No shuffle. #music",
        "Went to an evening of traditional kui yesterday. Watching a dombra player tell a "
        "whole story without a single word is something else. #music #kazakhculture",
        "Thanks @{mention} for the playlist swap! Three new favourite artists in one week. #music",
    ),
    "Football": (
        "Sunday league result: lost 4-3, but I scored a header for the first time in my "
        "life. Best defeat ever ⚽ #football",
        "Watched the match in a café with forty strangers who were all friends by the final "
        "whistle. That's why I love this game. #football",
        "Tactics question for the nerds: is pressing high worth it if your team can't keep "
        "the ball? Asking for my five-a-side team 😅 #football #tactics",
        "Took my niece to her first professional match today. She spent the whole second "
        "half cheering for the other team's goalkeeper 😂 #football",
        "Five-a-side every Thursday at 8pm in {city}. We're always one player short, so "
        "message me if you want in! #football",
        "That comeback last night. 0-2 at half-time, 3-2 at the end. I have no voice "
        "left. #football #matchday",
        "New boots, and they feel like slippers. Next match I'm either a legend or "
        "injured. #football",
        "Great game with @{mention} and the team tonight. We lost, but the post-match "
        "tea was excellent. #football",
    ),
    "Books": (
        "Finished «The Path of Abai» by Mukhtar Auezov. It took me two months and I'm sad "
        "it's over. The steppe feels like a character of its own. #books #reading",
        "Our book club picked *The Left Hand of Darkness* this month. Who has read it? "
        "Thoughts without spoilers, please. #books #bookclub",
        "Reading goal update: 14 books this year so far, most of them on the bus, which "
        "makes the commute the best part of my day 📚 #reading",
        "A library card is a superpower: free books, free quiet, free Wi-Fi. Go and get "
        "one. #books #library",
        "Currently reading three books at once, which means I'm finishing none of them. "
        "Send help. #books",
        "Quote of the day, from a book I'm rereading:\n\n"
        "> It is good to have an end to journey toward; but it is the journey that matters, "
        "in the end.\n\n"
        "Ursula K. Le Guin #books #quotes",
        "What's a book that changed how you see the world? I'll start: a history of the "
        "Silk Road that made me want to travel every part of it. #books",
        "My grandmother gave me her old copy of Abai's *Book of Words*, with her notes in "
        "the margins. Best gift I've ever had. #books #abai",
        "@{mention} lent me a novel a month ago and I finished it in two nights. Your "
        "recommendations are dangerous. #books #reading",
    ),
    "Photography": (
        "Golden hour over the hills outside {city}. No filter, I promise 📷 "
        "#photography #landscape",
        "Developed my first roll of film at home today. Six of the 36 frames are usable, "
        "and I've never been prouder. #filmphotography #photography",
        "Street photography tip I wish I'd heard earlier: stay in one spot and let the scene "
        "come to you. #photography #streetphotography",
        "Shot a friend's wedding as second photographer. 2,400 photos to sort through. "
        "Wish me luck. #photography",
        "Bazaar mornings have the best light: steam from the samsa ovens, sun through the "
        "canvas roofs, everyone busy. #photography #markets",
        "Gear matters less than people say. My favourite photo this year was taken on a "
        "five-year-old phone. #photography",
        "Photo walk with @{mention} this morning. We both came back with the same shot of "
        "the same cat 🐈 #photography",
        "Blue hour in {city}: ten minutes when the sky and the street lights are equally "
        "bright. #photography #bluehour",
    ),
    "Cooking": (
        "Made beshbarmak from scratch for the family dinner: hand-rolled noodles, slow-"
        "cooked meat and the broth in bowls on the side. My grandmother approved, which is "
        "the highest praise there is 🍲 #cooking #kazakhfood",
        "Baursak recipe that finally worked for me:\n\n"
        "- 500 g flour\n"
        "- 250 ml warm milk\n"
        "- 1 egg, 1 tbsp sugar, 1 tsp salt\n"
        "- 7 g dry yeast\n\n"
        "Let the dough rise for an hour, roll it 1 cm thick, cut it into squares and fry "
        "in hot oil until golden. #cooking #baursak",
        "My sourdough starter survived a week of neglect. Respect 🍞 #baking",
        "Sunday project: plov for twelve in a kazan over an open fire. The secret is "
        "patience. #cooking #plov",
        "Tried making ramen broth for the first time. Twelve hours of simmering for four "
        "bowls of soup. Worth it? Absolutely. #cooking",
        "Cheap weeknight dinner: roast whatever vegetables you have with chickpeas, cumin "
        "and lemon. 30 minutes, one tray, no thinking. #cooking #vegetarian",
        "Thank you @{mention} for the apple pie recipe! I've made it twice this week "
        "already 🥧 #baking",
        "Aport apples are at the market in {city} and I'm putting them in everything: jam, "
        "pie, chutney. Ideas welcome 🍎 #cooking",
    ),
    "Travel": (
        "Charyn Canyon at sunrise. The Valley of Castles looked like another planet. Worth "
        "the 4am start. #travel #kazakhstan",
        "Took the night train across the steppe: tea in glass holders, strangers sharing "
        "food, and a sunrise over nothing but grass. Best trip in years 🚂 #travel",
        "Packing tip: roll your clothes, bring a small padlock and always carry a pen for "
        "the arrival forms. #travel #tips",
        "Back in {city} after three weeks away. The first thing I did was eat at my "
        "favourite café. Home is a taste. #travel",
        'Hiking with @{mention} this weekend. "Bring snacks," they said. We brought too '
        "many snacks, which is the correct amount. #hiking #travel",
        "The mausoleum of Khoja Ahmed Yasawi in Turkistan at dusk is one of the most "
        "beautiful buildings I have ever seen. #travel #history",
        "Solo travel lesson: say yes to invitations from locals (safely). Some of my best "
        'memories began with "come and have tea with my family". #travel',
        "Plans for next summer: the Altai mountains, a tent and no phone signal. Who has "
        "tips? #travel #hiking",
    ),
    "Gaming": (
        "Co-op night recap: we built the most inefficient farm in history and I haven't "
        "laughed that hard in months 🎮 #gaming",
        "Finished a 90-hour RPG. The ending made me cry and I'm not even embarrassed. #gaming #rpg",
        "Board game night at my place: six people, one game of Catan, two friendships "
        "temporarily ended 😂 #boardgames",
        "Speedrun attempt #84: new personal best by 1.2 seconds. It's the small things. "
        "#gaming #speedrun",
        "Short, kind and beautiful games are underrated. What's your favourite one under "
        "five hours? #gaming #indiegames",
        "Retro night: dug out my dad's old console and played the games he played at my "
        "age. He still beat me. #gaming #retro",
        "Looking for two more players for our Friday co-op group. Chill vibes, no toxic "
        "behaviour, lots of snacks. @{mention}, are you in? #gaming",
        "Game night in {city} this Saturday. Bring a game you love and one you've never "
        "played. #boardgames",
    ),
    "Design": (
        "Redesigned our settings page: from 40 options on one screen to five clear "
        "sections. Support tickets about it halved. Good design is mostly deleting things. "
        "#design #ux",
        "Type pairing I keep coming back to: a sturdy serif for headings and a neutral sans "
        "for body text. Readable and never dated. #typography #design",
        "Spent the day on a palette inspired by the Kazakh flag: sky blue, sun gold and "
        "plenty of white space. #design #color",
        'Design review tip: before anyone talks about colours, ask "what is the one thing '
        'someone should do on this screen?" #design #ux',
        "Sketching on paper before opening any tool has saved me so many hours. Paper is "
        "the fastest prototyping tool there is ✏️ #design",
        "Ran usability tests with five people. Four of them missed the big green button we "
        "were all so proud of. Humbling. #ux #research",
        "Thanks @{mention} for the honest critique of my portfolio. It stung for a day, and "
        "now it's so much better. #design #portfolio",
        "Designed a poster for a concert in {city} this week. Two colours, one typeface, "
        "lots of space. Printing tomorrow! #design #poster",
    ),
    GENERAL: (
        "Morning walk in {city} before work: cold air, empty streets, the city slowly "
        "waking up. Best part of the day ☀️",
        "Friday plan: tea, a blanket and absolutely nothing else. #weekend",
        "Grateful for friends who check in when you go quiet. Thank you, @{mention} 💛",
        "Learned to say thank you in five languages this month: рахмет, спасибо, "
        "teşekkürler, gracias, merci. Next goal: ten. #languages",
        "Small wins count: I drank enough water, answered all my emails and called my mum 🏆",
        "What's one skill you learned this year that you're proud of? Mine: fixing a bike "
        "puncture without calling anyone 🚲",
        "Spent the weekend volunteering at the animal shelter in {city}. I came home with "
        "zero dogs, which took enormous self-control 🐶 #volunteering",
        "Reminder to take a break from the screen: go outside and look at something far "
        "away. Your eyes will thank you.",
        "First week at the new job done! ✨ Nervous, tired and very happy.",
        "Coffee or tea? Wrong answers only ☕",
        "Quiet evening in {city}: something simple on the stove, music on, phone on silent 🌙",
        "Two years since I moved to {city}. It finally feels like home 🏠",
        "Just joined the **{room}** room on Qosyl and it's already my favourite corner here.",
        "Best conversation of the week happened in **{room}**. Thanks, everyone!",
        "Happy birthday to @{mention}! 🎂 Hope your year is as kind as you are.",
        "A stranger helped me carry my shopping up four floors today. Small kindness, big "
        "difference. 💛",
    ),
}

# A comment is a line, or (line, the post author's answer to it).
# Placeholders: {name} (the post author's first name), {parent} (the commenter's username).
Remark = str | tuple[str, str]

GENERIC_COMMENTS: tuple[Remark, ...] = (
    "Love this! 😍",
    "Totally agree.",
    "So true 😄",
    "Thanks for sharing, {name}!",
    "Saving this for later.",
    "Ha, same here!",
    ("I need to try this.", "@{parent} do it, and tell me how it went!"),
    "Couldn't agree more.",
    "This made my day 🙌",
    "Great post, {name}!",
    "Interesting, I never thought about it that way.",
    ("You should write more about this.", "@{parent} I will, promise!"),
    "This is the content I'm here for 👏",
    "Yes! Exactly this.",
    "Sending this to my sister right now.",
)

TOPIC_COMMENTS: dict[str, tuple[Remark, ...]] = {
    "Python": (
        "Nice, I didn't know that one 🐍",
        "Stealing this for our codebase.",
        "Type hints for the win.",
        ("Does this work on 3.11 too?", "@{parent} most of it does. Give it a try!"),
    ),
    "JavaScript": (
        "I had the exact same bug last week 😅",
        "Bookmarked, thanks!",
        ("Does this work in Safari too?", "@{parent} yes, in every current browser."),
        "The web platform is so good now.",
    ),
    "Music": (
        ("We need a recording of this! 🎶", "@{parent} working on it 😅"),
        "Adding this to my playlist.",
        "So jealous, I'd love to learn the dombra.",
    ),
    "Football": (
        "What a game that was ⚽",
        ("Count me in for Thursday!", "@{parent} great, see you there!"),
        "Classic Sunday league 😂",
    ),
    "Books": (
        "Adding it to my list 📚",
        "One of my favourites!",
        ("No spoilers please, I'm halfway through.", "@{parent} my lips are sealed 🤐"),
    ),
    "Photography": (
        ("What camera did you use?", "@{parent} just my phone this time 📱"),
        "The light in this is beautiful.",
        "This would look great printed big.",
    ),
    "Cooking": (
        ("Recipe please! 🙏", "@{parent} I'll write it up this weekend!"),
        "Looks delicious 😋",
        "My grandmother makes it exactly the same way.",
    ),
    "Travel": (
        "Adding this to my list ✈️",
        ("How many days would you recommend?", "Three at least, more if you like hiking."),
        "Take me with you next time!",
    ),
    "Gaming": (
        "GG! 🎮",
        "I'm in for Friday.",
        ("Which platform?", "@{parent} PC, but it's on consoles too."),
    ),
    "Design": (
        "Clean! Love the spacing.",
        ("Would love to see a before and after.", "@{parent} good idea, I'll post one!"),
        "Such a good point.",
    ),
}

# The post author thanking a commenter, and someone else agreeing with one.
AUTHOR_REPLIES = (
    "Thanks! 😊",
    "@{parent} thank you!",
    "Glad you liked it!",
    "Appreciate it 🙏",
    "❤️",
    "@{parent} thanks, that means a lot.",
)
OTHER_REPLIES = (
    "Same here!",
    "@{parent} agreed!",
    "Exactly!",
    "Seconded 🙌",
    "This 👆",
    "@{parent} ha, I was about to say the same",
)

PHOTO_TOPICS = ("Photography", "Travel")

# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    first: str
    last: str
    city: str
    country: str


@dataclass
class Person:
    user: User
    interests: tuple[str, ...]
    role: str
    activity: float  # how much they post and chat, relative to others
    friends: set[int] = field(default_factory=set)  # indexes into Demo.people
    rooms: list[tuple[datetime, str]] = field(default_factory=list)  # joined, room name

    @property
    def joined(self) -> datetime:
        return self.user.created_at


@dataclass
class Demo:
    rng: random.Random
    now: datetime
    people: list[Person] = field(default_factory=list)
    follows: set[tuple[int, int]] = field(default_factory=set)
    # When each pair (lower index first) became friends.
    friend_times: dict[tuple[int, int], datetime] = field(default_factory=dict)
    posts: list[tuple[Post, int, str]] = field(default_factory=list)  # post, author, topic
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return self.now - HISTORY

    def between(self, earliest: datetime, latest: datetime) -> datetime:
        """A random moment in [earliest, latest], never in the future."""
        latest = min(latest, self.now)
        if earliest >= latest:
            return latest
        return earliest + (latest - earliest) * self.rng.random()

    def soon_after(self, moment: datetime, within: timedelta) -> datetime:
        return self.between(moment, moment + within)


def seed_demo(*, users: int, random_seed: int, progress: Progress) -> dict[str, int]:
    """Fill the database with a demo community and return how many of each thing it made.

    Needs an app context and a request context. "friendships" counts pairs of friends
    (the table holds a row per direction).
    """
    if users < 1:
        raise ValueError("The demo needs at least one user.")
    demo = Demo(rng=random.Random(random_seed), now=datetime.now(UTC))
    _create_people(demo, users, progress)
    _create_social_graph(demo, progress)
    _create_rooms(demo, progress)
    _create_posts(demo, progress)
    _create_reactions(demo, progress)
    _create_conversations(demo, progress)
    db.session.commit()
    return demo.counts


# ---------------------------------------------------------------------------
# Phase 1: people, avatars and covers
# ---------------------------------------------------------------------------


def _create_people(demo: Demo, count: int, progress: Progress) -> None:
    rng = demo.rng
    profiles = _pick_profiles(rng, count)
    taken = set(db.session.scalars(select(func.lower(User.username))))
    taken |= {email.split("@")[0] for email in db.session.scalars(select(func.lower(User.email)))}
    joined = [demo.start + 10 * MINUTE] + sorted(
        demo.between(demo.start + HOUR, demo.now - 12 * DAY) for _ in range(count - 1)
    )
    # Hashing is slow on purpose: once for everybody.
    password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
    with progress(range(count), "Users and avatars") as bar:
        for index in bar:
            profile = profiles[index]
            interests = FIRST_INTERESTS if index == 0 else _pick_interests(rng)
            role = rng.choice(ROLES_BY_TOPIC.get(interests[0], OTHER_ROLES))
            username = _username(rng, profile, taken, plain=index == 0)
            user = _make_user(demo, profile, username, joined[index], interests, role)
            user.password_hash = password_hash
            activity = 2.5 if index == 0 else rng.lognormvariate(0, 0.6)
            demo.people.append(Person(user, interests, role, activity))
    db.session.add_all(person.user for person in demo.people)
    db.session.flush()
    demo.counts["users"] = count


def _pick_profiles(rng: random.Random, count: int) -> list[Profile]:
    first, *others = (Profile(*row) for row in PEOPLE)
    rng.shuffle(others)
    profiles = [first, *others][:count]
    while len(profiles) < count:  # more people than written: mix names and places
        name_from, place_from = rng.sample(others, 2)
        profiles.append(
            Profile(name_from.first, place_from.last, place_from.city, place_from.country)
        )
    return profiles


def _pick_interests(rng: random.Random) -> tuple[str, ...]:
    return tuple(rng.sample(TOPICS, rng.choice((2, 2, 3))))


_TRANSLITERATION = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae"})


def _ascii(name: str) -> str:
    """Lower-case ASCII letters only: "Yıldız" -> "yildiz", "Ji-woo" -> "jiwoo"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATION))
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def _username(rng: random.Random, profile: Profile, taken: set[str], *, plain: bool) -> str:
    first = _ascii(profile.first) or "user"
    last = _ascii(profile.last) or "qosyl"
    styles = (
        first,
        f"{first}_{last}",
        f"{first}{last[:1]}",
        f"{first[:1]}{last}",
        f"{first}_{rng.randint(10, 99)}",
        f"{last}_{first}",
    )
    preferred = first if plain else rng.choice(styles)
    for candidate in (preferred, f"{first}_{last}", f"{first}{last}"):
        candidate = candidate[:30]
        if len(candidate) >= 3 and candidate not in taken:
            taken.add(candidate)
            return candidate
    number = 2
    while f"{first[:24]}_{number}" in taken:
        number += 1
    taken.add(f"{first[:24]}_{number}")
    return f"{first[:24]}_{number}"


def _make_user(
    demo: Demo,
    profile: Profile,
    username: str,
    joined: datetime,
    interests: tuple[str, ...],
    role: str,
) -> User:
    rng = demo.rng
    verified = joined + rng.randint(1, 30) * MINUTE
    onboarded = verified + rng.randint(1, 15) * MINUTE
    user = User(
        username=username,
        email=f"{username}@example.com",
        first_name=profile.first,
        last_name=profile.last,
        email_verified_at=verified,
        onboarded_at=onboarded,
        created_at=joined,
        updated_at=onboarded,
        bio=_bio(rng, role, profile.city, interests),
        about=_about(rng, profile, role, interests) if rng.random() < 0.8 else "",
        address=profile.city,
        country=profile.country,
        **_social_links(rng, username, profile, interests),
    )
    initials = (profile.first[:1] + profile.last[:1]).upper()
    user.avatar_key = _store_image(_avatar_png(rng, initials), media.AVATAR)
    if rng.random() < 1 / 3:
        user.cover_key = _store_image(_landscape_png(rng, COVER_SIZE), media.COVER)
    return user


def _title(role: str) -> str:
    return role[:1].upper() + role[1:]


def _bio(rng: random.Random, role: str, city: str, interests: tuple[str, ...]) -> str:
    lines = [rng.choice(BIO_LINES[topic]) for topic in interests[:2]]
    bio = f"{_title(role)} in {city}."
    for line in lines:
        if len(bio) + 1 + len(line) <= 160:
            bio += " " + line
    return bio


def _about(rng: random.Random, profile: Profile, role: str, interests: tuple[str, ...]) -> str:
    article = "an" if role[:1].lower() in "aeiou" else "a"
    parts = [f"Hi! I'm {profile.first}, {article} {role} living in {profile.city}."]
    for topic in interests[:2]:
        parts.append(rng.choice(ABOUT_LINES[topic]).format(years=rng.randint(2, 8)))
    if rng.random() < 0.6:
        parts.append(rng.choice(ABOUT_CLOSERS))
    return " ".join(parts)


def _social_links(
    rng: random.Random, username: str, profile: Profile, interests: tuple[str, ...]
) -> dict[str, str]:
    slug = username.replace("_", "-")
    codes = {"Python", "JavaScript"} & set(interests)
    chances = {
        "website": 0.3,
        "github": 0.75 if codes else 0.08,
        "twitter": 0.3,
        "linkedin": 0.45,
        "instagram": 0.8 if "Photography" in interests else 0.35,
        "facebook": 0.15,
    }
    urls = {
        "website": f"https://{slug}.example.com",
        "github": f"https://github.com/{username}",
        "twitter": f"https://x.com/{username}",
        "linkedin": f"https://www.linkedin.com/in/{_ascii(profile.first)}-{_ascii(profile.last)}",
        "instagram": f"https://www.instagram.com/{username}",
        "facebook": f"https://www.facebook.com/{username}",
    }
    return {name: urls[name] for name, chance in chances.items() if rng.random() < chance}


# ---------------------------------------------------------------------------
# Phase 2: friendships, follows and pending friend requests
# ---------------------------------------------------------------------------


def _create_social_graph(demo: Demo, progress: Progress) -> None:
    people = demo.people
    pairs: set[tuple[int, int]] = set()
    extra_follows: set[tuple[int, int]] = set()
    with progress(range(len(people)), "Friends and follows") as bar:
        for index in bar:
            wanted = 8 if index == 0 else demo.rng.randint(1, 4)
            for other in _pick_others(demo, index, wanted):
                pairs.add((min(index, other), max(index, other)))
            for other in _pick_others(demo, index, demo.rng.randint(1, 6), by_activity=True):
                extra_follows.add((index, other))
    _add_friendships(demo, sorted(pairs))
    _add_follows(demo, extra_follows)
    _add_friend_requests(demo)


def _affinity(a: Person, b: Person) -> float:
    shared = len(set(a.interests) & set(b.interests))
    return 1.0 + 2.0 * shared + (2.0 if a.user.country == b.user.country else 0.0)


def _pick_others(demo: Demo, index: int, count: int, *, by_activity: bool = False) -> list[int]:
    people = demo.people
    others = [other for other in range(len(people)) if other != index]
    weights = [
        _affinity(people[index], people[other]) * (people[other].activity if by_activity else 1)
        for other in others
    ]
    return _weighted_sample(demo.rng, others, weights, count)


def _add_friendships(demo: Demo, pairs: list[tuple[int, int]]) -> None:
    people = demo.people
    timed = []
    for a, b in pairs:
        met = max(people[a].joined, people[b].joined) + HOUR
        timed.append((demo.soon_after(met, 10 * DAY), a, b))
    timed.sort()
    rows = []
    for moment, a, b in timed:
        people[a].friends.add(b)
        people[b].friends.add(a)
        ids = (people[a].user.id, people[b].user.id)
        rows.append(Friendship(user_id=ids[0], friend_id=ids[1], created_at=moment))
        rows.append(Friendship(user_id=ids[1], friend_id=ids[0], created_at=moment))
        # Friends nearly always follow each other too, from the day they became friends.
        for follower, followed in ((a, b), (b, a)):
            if demo.rng.random() < 0.9:
                demo.follows.add((follower, followed))
        demo.friend_times[(a, b)] = moment
    db.session.add_all(rows)
    demo.counts["friendships"] = len(timed)


def _add_follows(demo: Demo, extra: set[tuple[int, int]]) -> None:
    people = demo.people
    demo.follows |= extra
    timed = []
    for follower, followed in sorted(demo.follows):
        pair = (min(follower, followed), max(follower, followed))
        if pair in demo.friend_times:
            moment = demo.soon_after(demo.friend_times[pair], 2 * HOUR)
        else:
            both = max(people[follower].joined, people[followed].joined)
            moment = demo.soon_after(both + 10 * MINUTE, 14 * DAY)
        timed.append((moment, follower, followed))
    timed.sort()
    db.session.add_all(
        Follow(
            follower_id=people[follower].user.id,
            followed_id=people[followed].user.id,
            created_at=moment,
        )
        for moment, follower, followed in timed
    )
    demo.counts["follows"] = len(timed)


def _add_friend_requests(demo: Demo) -> None:
    people, rng = demo.people, demo.rng
    # Unordered pairs of strangers, so no pair gets a request each way.
    strangers = [
        (a, b)
        for a in range(len(people))
        for b in range(a + 1, len(people))
        if b not in people[a].friends
    ]
    rng.shuffle(strangers)
    # The demo login finds a couple of requests waiting for her.
    to_first = [(b, a) for a, b in strangers if a == 0][:2]
    others = [rng.choice((pair, pair[::-1])) for pair in strangers if pair[0] != 0]
    chosen = to_first + others[: max(1, len(people) // 6)]
    timed = []
    for sender, receiver in chosen:
        both = max(people[sender].joined, people[receiver].joined, demo.now - 10 * DAY)
        timed.append((demo.between(both, demo.now - 30 * MINUTE), sender, receiver))
    timed.sort()
    db.session.add_all(
        FriendRequest(
            sender_id=people[sender].user.id,
            receiver_id=people[receiver].user.id,
            created_at=moment,
        )
        for moment, sender, receiver in timed
    )
    demo.counts["friend requests"] = len(timed)


# ---------------------------------------------------------------------------
# Phase 3: topics, rooms, members and chat
# ---------------------------------------------------------------------------


def _create_rooms(demo: Demo, progress: Progress) -> None:
    topics = _ensure_topics(demo)
    # Seeding an existing database again must not make a second lobby.
    has_lobby = db.session.scalar(select(Room.id).where(Room.is_lobby).limit(1)) is not None
    plans = list(ROOMS) if has_lobby else [LOBBY, *ROOMS]
    planned = [_plan_room(demo, plan, topics[plan.topic]) for plan in plans]
    planned.sort(key=lambda item: item[0].created_at)
    db.session.add_all(room for room, _, _ in planned)
    db.session.flush()
    messages: list[RoomMessage] = []
    with progress(planned, "Rooms and messages") as bar:
        for room, plan, members in bar:
            db.session.add_all(
                RoomMember(room_id=room.id, user_id=demo.people[index].user.id, joined_at=moment)
                for index, moment in members.items()
            )
            messages.extend(_room_messages(demo, room, plan, members))
    messages.sort(key=lambda message: message.created_at)
    db.session.add_all(messages)
    demo.counts["rooms"] = len(planned)
    demo.counts["room messages"] = len(messages)


def _ensure_topics(demo: Demo) -> dict[str, Topic]:
    existing = {topic.name.lower(): topic for topic in db.session.scalars(select(Topic))}
    topics = {}
    for offset, name in enumerate((GENERAL, *TOPICS)):
        topic = existing.get(name.lower())
        if topic is None:
            topic = Topic(name=name, created_at=demo.start + offset * MINUTE)
            db.session.add(topic)
        topics[name] = topic
    db.session.flush()
    return topics


def _plan_room(
    demo: Demo, plan: RoomPlan, topic: Topic
) -> tuple[Room, RoomPlan, dict[int, datetime]]:
    """A room (not yet flushed) and its members: person index -> when they joined."""
    rng, people = demo.rng, demo.people
    is_lobby = plan is LOBBY
    if is_lobby:
        host = 0
        created = people[0].joined + 5 * MINUTE
    else:
        fans = [index for index, person in enumerate(people) if plan.topic in person.interests]
        host = rng.choice(fans or range(len(people)))
        created = demo.soon_after(people[host].joined + HOUR, 10 * DAY)
    room = Room(
        name=plan.name,
        topic_id=topic.id,
        host_id=people[host].user.id,
        description=plan.description,
        is_lobby=is_lobby,
        created_at=created,
        updated_at=created,
    )
    members = {host: created}
    for index, person in enumerate(people):
        chance = 0.6 if is_lobby else 0.75 if plan.topic in person.interests else 0.12
        if index != host and rng.random() < chance:
            members[index] = demo.soon_after(max(created, person.joined) + 5 * MINUTE, 7 * DAY)
    if not is_lobby:
        for index, joined in members.items():
            people[index].rooms.append((joined, plan.name))
    return room, plan, members


def _room_messages(
    demo: Demo, room: Room, plan: RoomPlan, members: dict[int, datetime]
) -> list[RoomMessage]:
    rng = demo.rng
    count = rng.randint(15, 60)
    threads = [(plan.opening,), *_chat_threads(rng, plan.topic, count - 1)]
    opened = room.created_at + rng.randint(1, 10) * MINUTE
    starts = [opened] + sorted(
        demo.between(opened + 10 * MINUTE, demo.now) for _ in range(len(threads) - 1)
    )
    host = next(iter(members))
    messages = []
    for thread, start in zip(threads, starts, strict=True):
        moment = start
        speakers: list[int] = []
        for line in thread:
            if not messages:
                author = host
            elif speakers and isinstance(line, Opener):
                author = speakers[0]
            else:
                author = _chat_author(demo, members, moment, speakers)
            speakers.append(author)
            messages.append(
                RoomMessage(
                    room_id=room.id,
                    author_id=demo.people[author].user.id,
                    body=str(line),
                    created_at=moment,
                )
            )
            moment = min(moment + rng.randint(20, 480) * timedelta(seconds=1), demo.now)
    return messages


def _chat_threads(rng: random.Random, topic: str, count: int) -> list[tuple[str, ...]]:
    """Conversations of the topic, each used once, with small talk in between."""
    exchanges = list(CHAT[topic])
    rng.shuffle(exchanges)
    threads: list[tuple[str, ...]] = []
    lines = 0
    while lines < count:
        if exchanges and rng.random() < 0.7:
            thread = exchanges.pop()[: count - lines]
        else:
            thread = (rng.choice(SMALL_TALK),)
        threads.append(thread)
        lines += len(thread)
    return threads


def _chat_author(
    demo: Demo, members: dict[int, datetime], moment: datetime, speakers: list[int]
) -> int:
    """A member present at that moment, preferring one not yet in the conversation."""
    present = [index for index, joined in members.items() if joined <= moment]
    candidates = (
        [index for index in present if index not in speakers]
        or [index for index in present if not speakers or index != speakers[-1]]
        or present
    )
    weights = [demo.people[index].activity for index in candidates]
    return demo.rng.choices(candidates, weights)[0]


# ---------------------------------------------------------------------------
# Phase 4: posts
# ---------------------------------------------------------------------------


def _create_posts(demo: Demo, progress: Progress) -> None:
    rng, people = demo.rng, demo.people
    total = round(len(people) * rng.uniform(3.0, 4.0))
    joined = [person.joined for person in people]
    times = sorted(demo.between(demo.start + 2 * HOUR, demo.now) for _ in range(total))
    usage: Counter[str] = Counter()
    has_posted: set[int] = set()
    image_budget = max(2, len(people) // 6)
    with progress(times, "Posts") as bar:
        for moment in bar:
            # Only people who had joined by then; the first joined before any post.
            present = range(max(1, bisect.bisect_right(joined, moment)))
            author = rng.choices(present, [people[i].activity for i in present])[0]
            first = author not in has_posted
            body, topic = _post_body(demo, author, moment, present, usage, first)
            has_posted.add(author)
            post = Post(
                author_id=people[author].user.id,
                body=body,
                created_at=moment,
                like_count=0,
                comment_count=0,
            )
            if rng.random() < 0.04:
                post.edited_at = demo.soon_after(post.created_at, 30 * MINUTE)
            if topic in PHOTO_TOPICS and image_budget and rng.random() < 0.5:
                post.image_key = _store_image(
                    _landscape_png(rng, POST_IMAGE_SIZE), media.POST_IMAGE
                )
                image_budget -= 1
            demo.posts.append((post, author, topic))
    db.session.add_all(post for post, _, _ in demo.posts)
    db.session.flush()
    demo.counts["posts"] = len(demo.posts)


def _post_body(
    demo: Demo,
    author: int,
    moment: datetime,
    present: Sequence[int],
    usage: Counter[str],
    first: bool,
) -> tuple[str, str]:
    """A post's text and its topic, preferring templates used least so far."""
    rng, person = demo.rng, demo.people[author]
    friends = [index for index in present if index in person.friends]
    others = [index for index in present if index != author]
    mention = rng.choice(friends or others) if others else None
    rooms = [name for joined, name in person.rooms if joined <= moment]
    context = {
        "first": person.user.first_name,
        "city": person.user.address,
        "role_title": _title(person.role),
        "interest_a": INTEREST_WORDS[person.interests[0]],
        "interest_b": INTEREST_WORDS[person.interests[-1]],
        "mention": demo.people[mention].user.username if mention is not None else "",
        "room": rng.choice(rooms) if rooms else "",
    }
    if first and rng.random() < 0.35:
        return _fill(rng.choice(INTRO_POSTS), context), GENERAL
    topic = GENERAL if rng.random() < 0.2 else rng.choice(person.interests)
    usable = [
        text
        for text in POSTS[topic]
        if not ("{mention}" in text and not context["mention"])
        and not ("{room}" in text and not context["room"])
    ]
    least = min(usage[text] for text in usable)
    template = rng.choice([text for text in usable if usage[text] == least])
    usage[template] += 1
    return _fill(template, context), topic


def _fill(template: str, context: dict[str, str]) -> str:
    """str.format for templates whose code blocks hold literal braces."""
    return re.sub(r"\{(\w+)\}", lambda m: context.get(m.group(1), m.group(0)), template)


# ---------------------------------------------------------------------------
# Phase 5: likes, comments and replies
# ---------------------------------------------------------------------------


def _create_reactions(demo: Demo, progress: Progress) -> None:
    likes: list[PostLike] = []
    comments: list[tuple[Comment, Comment | None]] = []
    with progress(demo.posts, "Likes and comments") as bar:
        for post, author, topic in bar:
            post_likes = _likes_for(demo, post, author, topic)
            post_comments = _comments_for(demo, post, author, topic)
            post.like_count = len(post_likes)
            post.comment_count = len(post_comments)
            likes.extend(post_likes)
            comments.extend(post_comments)
    likes.sort(key=lambda like: like.created_at)
    db.session.add_all(likes)
    # Stable sort: a reply made in the same instant as its parent still comes after it.
    _insert_comments(sorted(comments, key=lambda entry: entry[0].created_at))
    demo.counts["likes"] = len(likes)
    demo.counts["comments"] = len(comments)


def _audience(demo: Demo, post: Post, author: int, topic: str) -> tuple[list[int], list[float]]:
    """Who reacts to a post: people around when it appeared, friends and fans most of all."""
    people = demo.people
    around = post.created_at + 2 * DAY
    others = [
        index for index, person in enumerate(people) if index != author and person.joined <= around
    ]
    weights = [
        1.0
        + 3.0 * (index in people[author].friends)
        + 2.0 * ((index, author) in demo.follows)
        + 1.5 * (topic in people[index].interests)
        for index in others
    ]
    return others, weights


def _likes_for(demo: Demo, post: Post, author: int, topic: str) -> list[PostLike]:
    rng, people = demo.rng, demo.people
    others, weights = _audience(demo, post, author, topic)
    mean = max(1.0, len(people) * 0.08) * people[author].activity
    count = min(len(others), round(rng.expovariate(1 / mean)))
    return [
        PostLike(
            post_id=post.id,
            user_id=people[liker].user.id,
            created_at=demo.soon_after(max(post.created_at, people[liker].joined), 3 * DAY),
        )
        for liker in _weighted_sample(rng, others, weights, count)
    ]


@dataclass
class _Thread:
    """A top-level comment, and the post author's answer it waits for, if any."""

    comment: Comment
    writer: int
    answer: str | None
    answered: bool = False


def _comments_for(
    demo: Demo, post: Post, author: int, topic: str
) -> list[tuple[Comment, Comment | None]]:
    rng, people = demo.rng, demo.people
    others, weights = _audience(demo, post, author, topic)
    if not others:
        return []
    pool = GENERIC_COMMENTS + TOPIC_COMMENTS.get(topic, ()) * 2
    context = {"name": people[author].user.first_name}
    entries: list[tuple[Comment, Comment | None]] = []
    threads: list[_Thread] = []
    unused = list(pool)
    said: set[str] = set()
    for _ in range(rng.choices(range(7), weights=(30, 22, 18, 12, 8, 6, 4))[0]):
        thread = rng.choice(threads) if threads and rng.random() < 0.35 else None
        if thread is None or thread.answered:
            writer = rng.choices(others, weights)[0]
            remark = rng.choice(unused or pool)
            unused = [other for other in unused if other != remark]
            line, answer = (remark, None) if isinstance(remark, str) else remark
            comment = _comment(demo, post, post.created_at, writer, _fill(line, context))
            threads.append(_Thread(comment, writer, answer))
            entries.append((comment, None))
            continue
        parent_context = {**context, "parent": people[thread.writer].user.username}
        if thread.answer is not None:
            # A question gets its answer from the post's author, and then rests.
            writer, line = author, thread.answer
            thread.answered = True
        elif rng.random() < 0.5 or len(others) < 2:
            writer, line = author, _unsaid(rng, AUTHOR_REPLIES, said)
        else:
            writer = rng.choice([index for index in others if index != thread.writer])
            line = _unsaid(rng, OTHER_REPLIES, said)
        body = _fill(line, parent_context)
        entries.append(
            (_comment(demo, post, thread.comment.created_at, writer, body), thread.comment)
        )
    return entries


def _unsaid(rng: random.Random, lines: Sequence[str], said: set[str]) -> str:
    """A line not said yet under this post, while there is one."""
    line = rng.choice([line for line in lines if line not in said] or lines)
    said.add(line)
    return line


def _comment(demo: Demo, post: Post, since: datetime, writer: int, body: str) -> Comment:
    person = demo.people[writer]
    moment = demo.soon_after(max(since, person.joined) + MINUTE, 2 * DAY)
    return Comment(post_id=post.id, author_id=person.user.id, body=body, created_at=moment)


def _insert_comments(entries: list[tuple[Comment, Comment | None]]) -> None:
    """Add comments in time order; a reply needs its parent's id, so flush when it has none."""
    for comment, parent in entries:
        if parent is not None:
            if parent.id is None:
                db.session.flush()
            comment.parent_id = parent.id
        db.session.add(comment)
    db.session.flush()


# ---------------------------------------------------------------------------
# Randomness helpers
# ---------------------------------------------------------------------------


def _weighted_sample(
    rng: random.Random, items: Sequence[T], weights: Sequence[float], count: int
) -> list[T]:
    """Up to `count` distinct items, heavier ones more likely (Efraimidis-Spirakis)."""
    keyed = [(rng.random() ** (1 / weight), index) for index, weight in enumerate(weights)]
    keyed.sort(reverse=True)
    return [items[index] for _, index in keyed[:count]]


# ---------------------------------------------------------------------------
# Generated pictures
# ---------------------------------------------------------------------------


def _store_image(png: bytes, spec: media.ImageSpec) -> str:
    """Run a generated picture through the upload pipeline, as if a person uploaded it."""
    key = media.store(media.process_image(BytesIO(png), spec))
    # If the seed fails later, its files go with its rows.
    on_rollback(lambda: media.delete_stored(spec.kind, key))
    return key


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _hsv(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _gradient(
    size: tuple[int, int], start: tuple[int, int, int], end: tuple[int, int, int], kind: str
) -> Image.Image:
    if kind == "radial":
        mask = Image.radial_gradient("L")
    else:
        mask = Image.linear_gradient("L")
        if kind == "horizontal":
            mask = mask.transpose(Image.Transpose.ROTATE_90)
    mask = mask.resize(size)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same letters on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def _avatar_png(rng: random.Random, initials: str) -> bytes:
    """A colourful gradient with a few translucent shapes and the person's initials."""
    size = AVATAR_SIZE
    hue = rng.random()
    start = _hsv(hue, 0.45, 0.98)
    end = _hsv(hue + rng.uniform(0.08, 0.3), 0.75, 0.68)
    image = _gradient((size, size), start, end, rng.choice(("vertical", "horizontal", "radial")))
    draw = ImageDraw.Draw(image, "RGBA")
    rng.choice(_PATTERNS)(draw, rng, size, hue)
    font = _font(round(size * 0.38))
    centre = (size / 2, size / 2)
    draw.text((centre[0] + 3, centre[1] + 4), initials, font=font, anchor="mm", fill=(0, 0, 0, 70))
    # A white outline of the white letters makes the regular font bold enough.
    draw.text(
        centre, initials, font=font, anchor="mm", fill="white", stroke_width=2, stroke_fill="white"
    )
    return _png(image)


def _accent(rng: random.Random, hue: float) -> tuple[int, int, int, int]:
    red, green, blue = _hsv(hue + rng.uniform(-0.2, 0.2), rng.uniform(0.2, 0.8), 1.0)
    return red, green, blue, rng.randint(50, 120)


def _circles(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    for _ in range(rng.randint(3, 6)):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        radius = rng.uniform(size * 0.1, size * 0.45)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=_accent(rng, hue))


def _stripes(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    width = rng.uniform(size * 0.08, size * 0.18)
    offset = rng.uniform(0, width * 2)
    x = -size + offset
    while x < size * 2:
        draw.polygon(
            ((x, 0), (x + width, 0), (x + width - size, size), (x - size, size)),
            fill=_accent(rng, hue),
        )
        x += width * 2


def _triangles(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    for _ in range(rng.randint(3, 7)):
        points = [(rng.uniform(-0.2, 1.2) * size, rng.uniform(-0.2, 1.2) * size) for _ in "abc"]
        draw.polygon(points, fill=_accent(rng, hue))


def _rings(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    x, y = rng.choice((0, size)), rng.choice((0, size))
    colour = _accent(rng, hue)
    for radius in range(round(size * 0.2), round(size * 1.5), round(size * 0.14)):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=colour, width=12)


_PATTERNS = (_circles, _stripes, _triangles, _rings)

# Sky hues: day blue, sunset orange, dawn pink, dusk violet, sea teal.
_SKY_HUES = (0.58, 0.07, 0.95, 0.72, 0.5)


def _landscape_png(rng: random.Random, size: tuple[int, int]) -> bytes:
    """A sky, a sun and layers of hills fading into the haze."""
    width, height = size
    hue = rng.choice(_SKY_HUES) + rng.uniform(-0.03, 0.03)
    horizon = _hsv(hue + 0.05, 0.25, 1.0)
    image = _gradient(size, _hsv(hue, 0.6, 0.82), horizon, "vertical")
    draw = ImageDraw.Draw(image, "RGBA")
    sun_x, sun_y = rng.uniform(0.1, 0.9) * width, rng.uniform(0.15, 0.45) * height
    radius = rng.uniform(0.06, 0.12) * height
    draw.ellipse(
        (sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius),
        fill=(*_hsv(0.13, 0.25, 1.0), 230),
    )
    ground = _hsv(rng.choice((0.3, 0.6, 0.08)), 0.5, 0.22)
    layers = rng.randint(3, 5)
    for layer in range(layers):
        share = (layer + 1) / layers
        colour = tuple(round(h + (g - h) * share) for h, g in zip(horizon, ground, strict=True))
        base = height * (0.42 + 0.5 * layer / layers)
        draw.polygon(_ridge(rng, width, height, base, 0.14 * (1 - 0.5 * share)), fill=colour)
    return _png(image)


def _ridge(
    rng: random.Random, width: int, height: int, base: float, roughness: float
) -> list[tuple[float, float]]:
    """The outline of a range of hills: a random walk across the picture, closed below."""
    step = width / rng.randint(12, 30)
    points = [(0.0, float(height))]
    x, y = 0.0, base
    while x <= width + step:
        points.append((x, y))
        x += step
        y = min(height * 0.95, max(height * 0.2, y + rng.uniform(-1, 1) * roughness * height))
    points.append((float(width), float(height)))
    return points


# ---------------------------------------------------------------------------
# Phase 6: private conversations and a group
# ---------------------------------------------------------------------------

DIRECT_LINES = (
    "Hey! Are you coming on Saturday?",
    "Yes, count me in. Should I bring anything?",
    "Maybe some snacks? I have drinks covered.",
    "Deal. Did you see the new room on **{topic}**?",
    "I did, the first thread is great.",
    "Sending you the link I mentioned: https://example.com/notes",
    "Thanks, reading it tonight.",
    "How did the week go?",
    "Busy but good. You?",
    "Same. Coffee on Monday?",
)
GROUP_LINES = (
    "Welcome, everyone! Plan for the weekend hike goes here.",
    "Which trail are we taking?",
    "The ridge one, about **12 km**.",
    "I can drive two people.",
    "Weather looks fine. Bring water and a jacket.",
)


def _create_conversations(demo: Demo, progress: Progress) -> None:
    """One-to-one conversations between some friends (the first person in several, with
    a few unread), a group hike the first person runs, and an invitation waiting for them."""
    rng = demo.rng
    pairs = sorted(demo.friend_times.items(), key=lambda item: item[1])
    first = [pair for pair in pairs if 0 in pair[0]][:6]
    others = [pair for pair in pairs if 0 not in pair[0]]
    chosen = first + rng.sample(others, min(len(others), 20))
    made = 0
    with progress(chosen, "Conversations") as bar:
        for (a, b), since in bar:
            people = (demo.people[a].user, demo.people[b].user)
            lines = rng.randint(2, len(DIRECT_LINES))
            conversation = Conversation(
                kind=ConversationKind.DIRECT,
                direct_key=f"{min(u.id for u in people)}:{max(u.id for u in people)}",
                created_at=since,
            )
            topic = demo.people[a].interests[0] if demo.people[a].interests else "music"
            made += _converse(demo, conversation, people, DIRECT_LINES[:lines], since, topic)
    group_people = [0, *sorted(demo.people[0].friends)[:3]]
    if len(group_people) > 1:
        users = [demo.people[index].user for index in group_people]
        since = max(u.created_at for u in users) + HOUR
        group = Conversation(kind=ConversationKind.GROUP, name="Weekend hike", admin_id=users[0].id)
        made += _converse(demo, group, users, GROUP_LINES, since, "hiking")
        if len(demo.people) > 5:
            host = demo.people[len(demo.people) - 1].user
            book_swap = Conversation(
                kind=ConversationKind.GROUP, name="Book swap", admin_id=host.id
            )
            made += _converse(demo, book_swap, [host], ("Books in, books out.",), since, "")
            db.session.add(
                ConversationMember(
                    conversation_id=book_swap.id,
                    user_id=users[0].id,
                    status=MemberStatus.INVITED,
                    invited_by_id=host.id,
                    joined_at=demo.now,
                )
            )
    demo.counts["conversations"] = made


def _converse(
    demo: Demo,
    conversation: Conversation,
    users: list[User] | tuple[User, ...],
    lines: Sequence[str],
    since: datetime,
    topic: str,
) -> int:
    """Write the conversation, its members and its lines in turn; everyone has read all
    but the first person, who has the last message of some unread."""
    moment = demo.between(since, demo.now)
    conversation.created_at = moment
    db.session.add(conversation)
    db.session.flush()
    messages = []
    for number, line in enumerate(lines):
        author = users[number % len(users)]
        messages.append(
            Message(
                conversation_id=conversation.id,
                author_id=author.id,
                body=line.replace("{topic}", topic or "music"),
                created_at=moment,
            )
        )
        moment = min(moment + demo.rng.randint(1, 90) * MINUTE, demo.now)
    db.session.add_all(messages)
    db.session.flush()
    conversation.last_message_at = messages[-1].created_at
    for user in users:
        unread = user.id == demo.people[0].user.id and demo.rng.random() < 0.5
        last_read = messages[-2].id if unread and len(messages) > 1 else messages[-1].id
        db.session.add(
            ConversationMember(
                conversation_id=conversation.id,
                user_id=user.id,
                status=MemberStatus.ACTIVE,
                joined_at=conversation.created_at,
                last_read_id=last_read,
            )
        )
    return 1
